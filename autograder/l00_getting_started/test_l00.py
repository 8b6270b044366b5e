"""Autograder for lesson 00: getting started with SLM agents.

Fake-model tests pin the behaviour exactly with scripted replies; real-model
tests run SmolLM2-135M at temperature 0 and check structure, never prose.
"""

import re
from datetime import datetime, timedelta, timezone
from typing import Literal, Optional

import pytest
from hypothesis import given
from hypothesis import strategies as st

from course.backends import (
    CallTool,
    CallTools,
    Reply,
    ScriptedBackend,
    ToolCall,
    malformed_tool_call,
    unknown_tool_call,
    wrong_types_call,
)
from course.tools import annotation_schema, tool

# --- helpers ---------------------------------------------------------------


@tool
def lookup_city(city: str, country: Optional[str] = None) -> str:
    """Look up facts about a city.

    Args:
        city: The city name.
        country: The country, when the name is ambiguous.
    """
    return f"{city} facts"


@tool
def add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: First number.
        b: Second number.
    """
    return a + b


@tool
def broken(x: int) -> str:
    """A tool that always fails.

    Args:
        x: Anything.
    """
    raise RuntimeError("disk on fire")


def user(text="hi"):
    return [{"role": "user", "content": text}]


# The tool's rule: ISO 8601 to the second, with the zone's offset (what isoformat(timespec="seconds") gives).
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")
ISO_RULE = ("an ISO 8601 time to the second with the zone's offset, such as 2026-12-01T17:50:04+09:00 "
            "(no fractions of a second, no 'Z')")


# --- l00.1 a typed tool ------------------------------------------------------


def test_time_tool_returns_iso_time_in_zone(target):
    """get_current_time("Asia/Tokyo") returns the time now in Tokyo, to the second, with its +09:00 offset,
    such as 2026-12-01T17:50:04+09:00 (no fractions of a second)."""
    tool_ = target.load("time_tool").get_current_time
    text = tool_("Asia/Tokyo")
    assert ISO.match(text), f"expected {ISO_RULE}, got {text!r}"
    stamp = datetime.fromisoformat(text)
    assert stamp.utcoffset() == timedelta(hours=9)
    assert abs((stamp - datetime.now(timezone.utc)).total_seconds()) < 5


def test_time_tool_default_is_utc(target):
    """With no argument the tool answers in UTC (+00:00)."""
    text = target.load("time_tool").get_current_time()
    assert datetime.fromisoformat(text).utcoffset() == timedelta(0)


def test_time_tool_rejects_unknown_zone(target):
    """An unknown timezone raises ValueError whose message names the bad zone."""
    with pytest.raises(ValueError, match="Mars/Olympus"):
        target.load("time_tool").get_current_time("Mars/Olympus")


# --- l00.2 schema ------------------------------------------------------------


def test_json_type_simple_types(target):
    """str, int, float and bool map to string, integer, number and boolean."""
    json_type = target.load("schema").json_type
    assert json_type(str) == {"type": "string"}
    assert json_type(int) == {"type": "integer"}
    assert json_type(float) == {"type": "number"}
    assert json_type(bool) == {"type": "boolean"}


def test_json_type_literal_list_optional(target):
    """Literal becomes an enum, list[T] an array of T, Optional[T] an anyOf with null."""
    json_type = target.load("schema").json_type
    assert json_type(Literal["c", "f"]) == {"type": "string", "enum": ["c", "f"]}
    assert json_type(Literal["auto", 1]) == {"enum": ["auto", 1]}, "values of two JSON types: an enum, no type"
    assert json_type(list[int]) == {"type": "array", "items": {"type": "integer"}}
    assert json_type(Optional[str]) == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert json_type(list[Optional[float]]) == {
        "type": "array", "items": {"anyOf": [{"type": "number"}, {"type": "null"}]}}


def test_tool_schema_of_time_tool(target):
    """The schema of get_current_time names it, describes it and has an optional string timezone."""
    schema_mod = target.load("schema")

    def get_current_time(timezone: str = "UTC") -> str:
        """Return the current time in a timezone.

        Args:
            timezone: An IANA name.
        """

    schema = schema_mod.tool_schema(get_current_time)
    assert schema["name"] == "get_current_time"
    assert schema["description"] == "Return the current time in a timezone."
    params = schema["parameters"]
    assert params["type"] == "object"
    assert params["properties"]["timezone"]["type"] == "string"
    assert params["properties"]["timezone"]["default"] == "UTC"
    assert params["required"] == []


def test_tool_schema_required_and_defaults(target):
    """Parameters without defaults are required, in order; each has the right JSON type."""
    schema_mod = target.load("schema")

    def book(city: str, nights: int, budget: float, pets: bool = False, tags: Optional[list[str]] = None) -> str:
        """Book a hotel."""

    params = schema_mod.tool_schema(book)["parameters"]
    assert params["required"] == ["city", "nights", "budget"]
    types_ = {name: prop.get("type") for name, prop in params["properties"].items()}
    assert types_ == {"city": "string", "nights": "integer", "budget": "number", "pets": "boolean", "tags": None}
    assert params["properties"]["pets"]["default"] is False
    assert params["properties"]["tags"]["anyOf"][0] == {"type": "array", "items": {"type": "string"}}


simple = st.sampled_from([str, int, float, bool])
annotations = st.recursive(
    simple | st.sampled_from([Literal["a", "b"], Literal[1, 2, 3]]),
    lambda inner: inner.map(lambda t: list[t]) | inner.map(lambda t: Optional[t]),
    max_leaves=4,
)


def _strip_descriptions(schema):
    if isinstance(schema, dict):
        return {k: _strip_descriptions(v) for k, v in schema.items() if k != "description"}
    if isinstance(schema, list):
        return [_strip_descriptions(v) for v in schema]
    return schema


@given(annotations)
def test_json_type_agrees_with_course_reference(target, annotation):
    """For random nestings of the supported types, the schema equals course.tools' reference."""
    json_type = target.load("schema").json_type
    assert json_type(annotation) == _strip_descriptions(annotation_schema(annotation))


# --- l00.3 the agent loop ----------------------------------------------------


def test_loop_answers_without_tools(target):
    """A reply with no tool calls is the answer: one model call, stop_reason 'answer'."""
    fake = ScriptedBackend([Reply("Hello there.")])
    run = target.load("agent").run_agent(fake, [lookup_city], "hi")
    assert run.answer == "Hello there."
    assert run.stop_reason == "answer"
    assert run.model_calls == 1 and len(fake.requests) == 1


def test_loop_feeds_tool_results_back(target):
    """After a tool call, the next request holds the assistant's call and a tool message with its result and id."""
    fake = ScriptedBackend([CallTool("lookup_city", {"city": "Lyon"}, id="call_lyon"), Reply("Lyon is nice.")])
    run = target.load("agent").run_agent(fake, [lookup_city], "Tell me about Lyon")
    assert run.answer == "Lyon is nice." and run.model_calls == 2
    second = fake.requests[1].messages
    assert second[-2]["role"] == "assistant" and second[-2]["tool_calls"][0]["id"] == "call_lyon"
    assert second[-1] == {**second[-1], "role": "tool", "tool_call_id": "call_lyon", "content": "Lyon facts"}
    assert fake.requests[0].tools and fake.requests[0].tools[0]["function"]["name"] == "lookup_city"


def test_loop_stops_at_max_steps(target):
    """A model that never stops calling tools is cut off after max_steps model calls."""
    calls = (CallTool("add", {"a": i, "b": 1}) for i in range(100))
    fake = ScriptedBackend(list(calls))
    run = target.load("agent").run_agent(fake, [add], "count", max_steps=4)
    assert run.answer is None and run.stop_reason == "max_steps"
    assert len(fake.requests) == 4


def test_loop_repeated_call_asks_for_answer(target):
    """A call repeating an answered one is not run again nor kept; the next request has tool_choice='none'."""
    fake = ScriptedBackend([
        CallTool("add", {"a": 2, "b": 3}),
        CallTool("add", {"b": 3, "a": 2}),  # the same call, keys in another order
        Reply("2 + 3 = 5"),
    ])
    run = target.load("agent").run_agent(fake, [add], "2+3?")
    assert run.answer == "2 + 3 = 5"
    assert len(run.tool_messages) == 1
    third = fake.requests[2]
    assert third.tool_choice == "none"
    assert sum(1 for m in third.messages if m.get("tool_calls")) == 1
    assert [m["content"] for m in third.messages if m["role"] == "tool"] == ["5"]


def test_loop_runs_every_call_in_order(target):
    """Several calls in one reply each get a tool message, in the order of the calls."""
    fake = ScriptedBackend([
        CallTools([CallTool("add", {"a": 1, "b": 1}, id="c1"), CallTool("lookup_city", {"city": "Oslo"}, id="c2"),
                   CallTool("add", {"a": 5, "b": 5}, id="c3")]),
        Reply("done"),
    ])
    run = target.load("agent").run_agent(fake, [add, lookup_city], "go")
    tool_msgs = [m for m in fake.requests[1].messages if m["role"] == "tool"]
    assert [(m["tool_call_id"], m["content"]) for m in tool_msgs] == [("c1", "2"), ("c2", "Oslo facts"), ("c3", "10")]
    assert run.answer == "done"


def test_real_model_agent_answers_with_the_time(target, smollm2):
    """On real SmolLM2 the loop ends, makes a valid get_current_time call, and the answer carries its result."""
    from course.tools.clock import get_current_time

    run = target.load("agent").run_agent(smollm2, [get_current_time], "What time is it in Paris right now?")
    assert run.stop_reason == "answer", "the loop should end with an answer within max_steps"
    assert run.tool_messages, "the model should have called get_current_time"
    result = run.tool_messages[0]["content"]
    assert ISO.match(result), f"the tool result should be {ISO_RULE}, got {result!r}"
    assert result[11:16] in (run.answer or ""), "the final answer should carry the time the tool returned"


# --- l00.4 recovering from bad calls -----------------------------------------


def _execute(target, call):
    return target.load("agent").execute_tool_call(call, {"add": add, "lookup_city": lookup_city, "broken": broken})


def test_execute_runs_a_valid_call(target):
    """A valid call returns a tool message with the call's id and the result as text."""
    msg = _execute(target, ToolCall("c9", "add", '{"a": 2, "b": 40}'))
    assert msg["role"] == "tool" and msg["tool_call_id"] == "c9" and msg["content"] == "42"


def test_execute_reports_malformed_json(target):
    """Arguments that are not JSON give an 'Error:' message, not an exception."""
    msg = _execute(target, ToolCall("c1", "add", '{"a": 2, "b": '))
    assert msg["tool_call_id"] == "c1" and msg["content"].startswith("Error:")
    assert "json" in msg["content"].lower()


def test_execute_reports_unknown_tool(target):
    """An unknown tool gives an 'Error:' message that lists the available tools."""
    msg = _execute(target, ToolCall("c2", "launch_rocket", "{}"))
    assert msg["content"].startswith("Error:") and "launch_rocket" in msg["content"]
    assert all(name in msg["content"] for name in ("add", "lookup_city", "broken"))


def test_execute_reports_wrong_types(target):
    """Arguments of the wrong type give an 'Error:' message naming the argument."""
    msg = _execute(target, ToolCall("c3", "add", '{"a": "two", "b": 2}'))
    assert msg["content"].startswith("Error:") and "'a'" in msg["content"]


def test_execute_reports_tool_exception(target):
    """A tool that raises gives an 'Error:' message with the exception, and nothing propagates."""
    msg = _execute(target, ToolCall("c4", "broken", '{"x": 1}'))
    assert msg["content"].startswith("Error:") and "disk on fire" in msg["content"]


def test_loop_survives_adversarial_model(target):
    """Malformed JSON, an unknown tool and wrong types each reach the model as errors; the loop still answers."""
    fake = ScriptedBackend([
        malformed_tool_call("lookup_city"),
        unknown_tool_call(),
        wrong_types_call("lookup_city", city=7),
        CallTool("lookup_city", {"city": "Nice"}),
        Reply("Nice is sunny."),
    ])
    run = target.load("agent").run_agent(fake, [lookup_city], "Nice?", max_steps=6)
    assert run.answer == "Nice is sunny."
    contents = [m["content"] for m in run.tool_messages]
    assert [c.startswith("Error:") for c in contents] == [True, True, True, False]
