"""Hidden tests for lesson 00: never shipped to learners in a release."""

from datetime import datetime

import pytest

from course.backends import CallTool, FakeClock, Reply, ScriptedBackend, ToolCall
from course.tools import tool


@tool
def stats(city: str) -> dict:
    """City statistics.

    Args:
        city: The city.
    """
    return {"city": city, "population": 515695}


def test_time_tool_offset_follows_daylight_saving(target):
    """New York's offset is -04:00 or -05:00 depending on the date, as zoneinfo says for now."""
    from zoneinfo import ZoneInfo

    text = target.load("time_tool").get_current_time("America/New_York")
    assert datetime.fromisoformat(text).utcoffset() == datetime.now(ZoneInfo("America/New_York")).utcoffset()


def test_json_type_rejects_unsupported(target):
    """Types outside the list (dict, a class, a tuple) raise TypeError."""
    json_type = target.load("schema").json_type
    for bad in (dict, object, tuple[int, int]):
        with pytest.raises(TypeError):
            json_type(bad)


def test_loop_keeps_instructions_first(target):
    """The instructions are the first (system) message and the question the second, in every request."""
    fake = ScriptedBackend([CallTool("stats", {"city": "Lyon"}), Reply("ok")])
    target.load("agent").run_agent(fake, [stats], "Lyon?", instructions="Be brief.")
    for request in fake.requests:
        assert request.messages[0] == {"role": "system", "content": "Be brief."}
        assert request.messages[1]["role"] == "user" and request.messages[1]["content"] == "Lyon?"


def test_execute_serialises_non_string_results(target):
    """A dict result reaches the model as JSON text."""
    import json

    msg = target.load("agent").execute_tool_call(ToolCall("c1", "stats", '{"city": "Lyon"}'), {"stats": stats})
    assert json.loads(msg["content"]) == {"city": "Lyon", "population": 515695}


def test_measure_single_token_has_no_rate(target):
    """With one token there is no decode interval: tokens_per_s is None, ttft is set."""
    fake = ScriptedBackend([Reply("Yes", first_token_delay=0.3)], clock=FakeClock())
    m = target.load("measure").measure(fake, [{"role": "user", "content": "?"}])
    assert m.tokens == 1 and m.ttft_s == pytest.approx(0.3) and m.tokens_per_s is None
