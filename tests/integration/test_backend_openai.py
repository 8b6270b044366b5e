"""The OpenAI-compatible backend against llama.cpp's own server, on a free loopback port.

Single-turn only: llama-cpp-python's server (0.3.x) answers HTTP 500 to the
standard tool-calling follow-up turn, which the course's own server fixes.
"""

import json

import jsonschema
import pytest

from course.backends import BackendUnavailableError, BadRequestError, OpenAICompatBackend, json_schema_format
from course.models import model_path
from course.tools import get_current_time

from extras import require_extra
from servers import free_port, llama_server_cmd, running


@pytest.fixture(scope="module")
def server():
    require_extra("server")
    port = free_port()
    with running(llama_server_cmd(str(model_path("smollm2-135m")), port), f"http://127.0.0.1:{port}/v1/models"):
        yield f"http://127.0.0.1:{port}/v1"


@pytest.fixture
def backend(server):
    with OpenAICompatBackend(server, "smollm2-135m", json_object_schema=True) as b:
        yield b


def test_chat_streams_with_usage_and_timings(backend):
    stream = backend.stream([{"role": "user", "content": "Name three colours."}], max_tokens=24)
    pieces = [c.content for c in stream if c.content]
    r = stream.response
    assert len(pieces) > 1 and "".join(pieces) == r.content
    # llama.cpp's server sends no usage when streaming: the backend counts chunks and says so
    assert r.usage.estimated and r.usage.completion_tokens == len(pieces)
    assert 0 < r.timings.ttft_s <= r.timings.total_s


def test_forced_tool_call_is_valid(backend):
    r = backend.chat([{"role": "user", "content": "What time is it in Tokyo?"}], tools=[get_current_time],
                     tool_choice={"type": "function", "function": {"name": "get_current_time"}}, max_tokens=48)
    assert r.finish_reason == "tool_calls" and r.tool_calls[0].name == "get_current_time"
    get_current_time.validate(json.loads(r.tool_calls[0].arguments))


def test_json_schema_output(backend):
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    r = backend.chat([{"role": "user", "content": "Name a city as JSON."}], response_format=json_schema_format(schema),
                     max_tokens=32)
    jsonschema.validate(json.loads(r.content), schema)


def test_unreachable_server_is_a_clear_error():
    with OpenAICompatBackend(f"http://127.0.0.1:{free_port()}/v1", "x", timeout=3) as b:
        with pytest.raises(BackendUnavailableError, match="course serve"):
            b.chat([{"role": "user", "content": "hi"}])


def test_server_errors_are_reported_with_status(server):
    with OpenAICompatBackend(server + "/no-such-path", "smollm2-135m") as wrong:
        with pytest.raises(BadRequestError, match="HTTP 404"):
            wrong.chat([{"role": "user", "content": "hi"}])
