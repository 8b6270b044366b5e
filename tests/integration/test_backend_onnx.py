"""ONNX Runtime GenAI behind the course's chat interface (lesson 04): the int4 ONNX form of SmolLM2, for real.

The form is prepared once per machine in the course cache (`course models prepare smollm2-135m --form onnx`,
about a minute); the foundry-prepare extra (part of `.[all]`) brings onnxruntime-genai and the converter.
"""

import pytest

from extras import require_extra

require_extra("foundry-prepare")

from course.backends import make_backend  # noqa: E402
from course.backends.types import BackendUnavailableError, BadRequestError  # noqa: E402
from course.models.forms import is_prepared, prepare  # noqa: E402

MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.fixture(scope="module")
def onnx():
    if not is_prepared("smollm2-135m", "onnx"):
        prepare("smollm2-135m", "onnx")
    backend = make_backend("onnxruntime-genai", "smollm2-135m")
    yield backend
    backend.close()


def test_greedy_chat_is_repeatable_with_exact_usage_and_timings(onnx):
    first = onnx.chat(MESSAGES, max_tokens=24)
    again = onnx.chat(MESSAGES, max_tokens=24)
    assert first.content == again.content and first.content.strip()
    assert first.usage.prompt_tokens == len(onnx.prompt_ids(onnx_request(onnx)))
    assert 0 < first.usage.completion_tokens <= 24
    assert first.timings.ttft_s > 0 and first.timings.tokens_per_s > 0


def onnx_request(backend):
    from course.backends.types import ChatRequest
    return ChatRequest(messages=MESSAGES)


def test_streaming_pieces_join_to_the_reply_and_max_tokens_ends_it_with_length(onnx):
    chunks = list(onnx.stream(MESSAGES, max_tokens=8))
    text = "".join(c.content for c in chunks)
    final = chunks[-1].response
    assert final.content == text and final.finish_reason == "length" and final.usage.completion_tokens == 8


def test_json_schema_output_is_constrained(onnx):
    import json
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
              "additionalProperties": False}
    r = onnx.chat([{"role": "user", "content": "Name a city in JSON."}], max_tokens=40,
                  response_format={"type": "json_schema", "json_schema": {"name": "c", "schema": schema}})
    assert set(json.loads(r.content)) == {"city"}


def test_the_lesson_00_agent_runs_on_onnx_runtime(onnx):
    from course.agent import Agent
    from course.tools.clock import get_current_time

    result = Agent(onnx, [get_current_time], max_steps=3, max_tokens=64).run("What time is it in Paris right now?")
    assert result.stop_reason in ("answer", "max_steps") and result.trace.model_steps
    for step in result.trace.tool_steps:  # whatever the model chose, each call ran through the course's tool path
        assert step.call.name == "get_current_time" or not step.ok
    assert all(s.response.usage.completion_tokens > 0 for s in result.trace.model_steps)


def test_a_prompt_too_long_and_an_unprepared_model_are_clear_errors(onnx, monkeypatch):
    with pytest.raises(BadRequestError, match="context"):
        onnx.chat([{"role": "user", "content": "word " * 9000}], max_tokens=8)
    import course.models.forms as forms
    monkeypatch.setattr(forms, "is_prepared", lambda alias, form: False)
    with pytest.raises(BackendUnavailableError, match="course models prepare smollm2-135m --form onnx"):
        make_backend("onnxruntime-genai", "smollm2-135m")
