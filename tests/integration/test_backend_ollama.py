"""The Ollama backend, through the real ``ollama`` client, against a scripted stub of Ollama's REST API
(``course.servers.faulty.FaultyServer``, the server lesson 07's exercises are graded against).

The tests check the wire format the client really sends (arguments as objects,
``tool_name`` on tool results, ``options``, ``format``) and replies with NDJSON
lines shaped like Ollama's. A real Ollama-compatible server comes with ``course serve``.
"""

import json

import pytest

from course.backends import BackendUnavailableError, BadRequestError, OllamaBackend, json_schema_format
from course.servers.faulty import FaultyServer, Lines, Status
from course.tools import get_current_time

from servers import free_port


def chunk(content="", done=False, tool_calls=None, **extra):
    msg = {"role": "assistant", "content": content}
    if tool_calls:
        msg["tool_calls"] = tool_calls
    base = {"model": "smollm2", "created_at": "2026-11-21T00:00:00Z", "message": msg, "done": done}
    if done:
        base.update({"done_reason": "stop", "prompt_eval_count": 12, "eval_count": 3,
                     "total_duration": 1, "eval_duration": 1})
    return base | extra


@pytest.fixture
def stub():
    with FaultyServer([]) as server:  # each test appends the replies it needs to server.script
        yield server


def test_text_reply_streams_and_reports_usage(stub):
    stub.script.append(Lines([chunk("Hello"), chunk(" there"), chunk("", done=True)]))
    with OllamaBackend("smollm2", host=stub.url) as b:
        r = b.chat([{"role": "user", "content": "hi"}], temperature=0.2, seed=7, max_tokens=33)
    assert r.content == "Hello there" and r.usage.prompt_tokens == 12 and r.usage.completion_tokens == 3
    sent = stub.bodies[0]
    assert sent["options"] == {"temperature": 0.2, "seed": 7, "num_predict": 33} and sent["stream"] is True


def test_tool_round_trip_wire_format(stub):
    stub.script.append(Lines([chunk(tool_calls=[{"function": {"name": "get_current_time",
                                                         "arguments": {"timezone": "Asia/Tokyo"}}}]),
                         chunk("", done=True)]))
    stub.script.append(Lines([chunk("It is noon."), chunk("", done=True)]))
    with OllamaBackend("smollm2", host=stub.url) as b:
        messages = [{"role": "user", "content": "time in Tokyo?"}]
        r = b.chat(messages, tools=[get_current_time])
        assert r.finish_reason == "tool_calls"
        call = r.tool_calls[0]
        assert call.name == "get_current_time" and json.loads(call.arguments) == {"timezone": "Asia/Tokyo"}
        messages += [r.message(), {"role": "tool", "tool_call_id": call.id, "content": "12:00"}]
        assert b.chat(messages, tools=[get_current_time]).content == "It is noon."
    first, second = stub.bodies
    assert first["tools"][0]["function"]["name"] == "get_current_time"
    assistant, tool_msg = second["messages"][1], second["messages"][2]
    assert assistant["tool_calls"][0]["function"]["arguments"] == {"timezone": "Asia/Tokyo"}  # an object
    assert tool_msg["role"] == "tool" and tool_msg["tool_name"] == "get_current_time"


def test_forced_tool_uses_format(stub):
    stub.script.append(Lines([chunk('{"name": "get_current_time", "arguments": {"timezone": "UTC"}}'), chunk("", done=True)]))
    with OllamaBackend("smollm2", host=stub.url) as b:
        r = b.chat([{"role": "user", "content": "time?"}], tools=[get_current_time], tool_choice="required")
    assert r.tool_calls[0].name == "get_current_time" and r.content is None
    fmt = stub.bodies[0]["format"]
    assert fmt["properties"]["name"] == {"const": "get_current_time"} and not stub.bodies[0].get("tools")


def test_json_schema_goes_in_format(stub):
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    stub.script.append(Lines([chunk('{"city": "Lyon"}'), chunk("", done=True)]))
    with OllamaBackend("smollm2", host=stub.url) as b:
        r = b.chat([{"role": "user", "content": "city"}], response_format=json_schema_format(schema))
    assert json.loads(r.content) == {"city": "Lyon"} and stub.bodies[0]["format"] == schema


def test_unknown_model_is_a_clear_error(stub):
    stub.script.append(Status(404, "model 'nope' not found"))
    with OllamaBackend("nope", host=stub.url) as b:
        with pytest.raises(BadRequestError, match="404.*not found"):
            b.chat([{"role": "user", "content": "hi"}])


def test_unreachable_ollama_is_a_clear_error():
    with OllamaBackend("smollm2", host=f"http://127.0.0.1:{free_port()}", timeout=3) as b:
        with pytest.raises(BackendUnavailableError, match="ollama serve"):
            b.chat([{"role": "user", "content": "hi"}])
