"""The scripted fake and the reference agent loop: deterministic, adversarial."""

import pytest

from course.agent import Agent, AgentError
from course.backends import (
    BadRequestError,
    CallTool,
    Delay,
    Endless,
    FakeClock,
    Raise,
    Reply,
    ScriptedBackend,
    ScriptExhaustedError,
    BackendUnavailableError,
    malformed_tool_call,
    unknown_tool_call,
    wrong_types_call,
)
from course.tools import tool
from course.tools.clock import get_current_time


@tool
def double(n: int) -> int:
    """Double a number.

    Args:
        n: The number.
    """
    return 2 * n


USER = [{"role": "user", "content": "hi"}]


def test_fake_clock_makes_timings_exact():
    fake = ScriptedBackend([Delay(1.0, Reply("a b c", first_token_delay=0.25, token_delay=0.5))], clock=FakeClock())
    r = fake.chat(USER)
    assert r.timings.ttft_s == pytest.approx(1.25) and r.timings.total_s == pytest.approx(2.25)
    assert r.timings.tokens_per_s == pytest.approx(2.0) and r.usage.completion_tokens == 3


def test_fake_streams_word_by_word():
    stream = ScriptedBackend([Reply("one two three")]).stream(USER)
    assert [c.content for c in stream if c.content] == ["one", " two", " three"]
    assert stream.response.content == "one two three"


def test_script_exhaustion_is_explained():
    fake = ScriptedBackend([Reply("x")])
    fake.chat(USER)
    with pytest.raises(ScriptExhaustedError, match="1 step"):
        fake.chat(USER)


@pytest.mark.parametrize("kwargs,match", [
    ({"tools": [double], "tool_choice": {"type": "function", "function": {"name": "nope"}}}, "not among"),
    ({"tool_choice": "required"}, "at least one tool"),
    ({"response_format": {"type": "yaml"}}, "response_format"),
    ({"max_tokens": 0}, "max_tokens"),
    ({"temperature": 5}, "temperature"),
])
def test_bad_requests_get_clear_errors(kwargs, match):
    with pytest.raises(BadRequestError, match=match):
        ScriptedBackend([Reply("x")]).chat(USER, **kwargs)


def test_messages_are_validated():
    with pytest.raises(BadRequestError, match="tool_call_id"):
        ScriptedBackend([Reply("x")]).chat([{"role": "tool", "content": "5"}])
    with pytest.raises(BadRequestError, match="empty"):
        ScriptedBackend([Reply("x")]).chat([])
    # content as a list of text parts is flattened
    fake = ScriptedBackend([Reply("x")])
    fake.chat([{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}])
    assert fake.requests[0].messages[0]["content"] == "ab"


def test_agent_survives_every_fault_and_records_it():
    fake = ScriptedBackend([
        malformed_tool_call("double"), unknown_tool_call(), wrong_types_call("double", n="two"),
        CallTool("double", {"n": 21}), Reply("42"),
    ])
    result = Agent(fake, [double], max_steps=6).run("double 21")
    assert result.answer == "42" and result.stop_reason == "answer"
    errors = [s.error for s in result.trace.tool_steps]
    assert errors == ["bad_arguments", "unknown_tool", "bad_arguments", None]
    assert result.tool_results == ["42"]
    assert len(result.trace.lines()) == 9


def test_agent_reports_a_raising_tool():
    @tool
    def explode() -> str:
        """Always fails."""
        raise OSError("no disk")

    fake = ScriptedBackend([CallTool("explode"), Reply("sorry")])
    result = Agent(fake, [explode]).run("go")
    assert "OSError: no disk" in result.trace.tool_steps[0].content
    assert fake.requests[1].messages[-1]["content"].startswith("Error:")


def test_agent_stops_an_endless_run_of_tool_calls():
    fake = ScriptedBackend([Endless(CallTool("double", {"n": 1}))])
    result = Agent(fake, [double], max_steps=4).run("loop")
    assert result.stop_reason == "max_steps" and result.answer is None and len(fake.requests) == 4
    assert fake.requests[-1].tool_choice == "none", "a repeated call switches tools off"


def test_agent_backend_failure_keeps_the_trace():
    fake = ScriptedBackend([CallTool("double", {"n": 2}), Raise(BackendUnavailableError("server gone"))])
    with pytest.raises(AgentError, match="server gone") as info:
        Agent(fake, [double]).run("x")
    assert len(info.value.trace.steps) == 2


def test_time_tool_schema_and_errors():
    spec = get_current_time.spec()["function"]
    assert spec["parameters"]["properties"]["timezone"]["type"] == "string"
    assert spec["parameters"]["required"] == []
    with pytest.raises(ValueError, match="unknown timezone"):
        get_current_time("Nowhere/City")


def test_answer_after_turns_tools_off_after_that_many_rounds():
    from course.agent import Agent
    from course.backends.fake import CallTool, Reply, ScriptedBackend
    from course.tools import tool

    @tool
    def lookup(city: str) -> str:
        """Facts about a city."""
        return f"{city}: facts"

    model = ScriptedBackend([CallTool("lookup", {"city": "Lyon"}), CallTool("lookup", {"city": "Nice"}),
                             Reply("Both are nice.")])
    result = Agent(model, [lookup], answer_after=2).run("Lyon and Nice?")
    assert result.answer == "Both are nice."
    assert [r.tool_choice for r in model.requests] == ["auto", "auto", "none"]
    model = ScriptedBackend([CallTool("lookup", {"city": "Lyon"}), Reply("Lyon is nice.")])
    Agent(model, [lookup], answer_after=1).run("Lyon?")
    assert [r.tool_choice for r in model.requests] == ["auto", "none"]
    with pytest.raises(ValueError, match="answer_after"):
        Agent(model, [lookup], answer_after=0)
