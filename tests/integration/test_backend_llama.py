"""The in-process llama.cpp backend on the real shipped models."""

import json

import jsonschema
import pytest

from course.backends import BadRequestError, LlamaCppBackend, json_schema_format
from course.backends.grammar import prefix_rules, tool_call_grammar_text
from course.backends.toolcall_text import parse_decision
from course.models import ModelFileError
from course.tools import tool
from course.tools.clock import get_current_time


@tool
def convert_temperature(value: float, unit: str = "celsius") -> float:
    """Convert a temperature between celsius and fahrenheit.

    Args:
        value: The temperature to convert.
        unit: The unit of value: celsius or fahrenheit.
    """
    return value


PROMPTS = [
    "What time is it in Tokyo?",
    "Tell me the time in New York.",
    "time in paris pls",
    "Is it morning in Sydney now?",
    "What's 20 degrees celsius in fahrenheit?",
    "Hello!",
    "Write a poem about the sea.",
    "{\"timezone\": ",  # adversarial: the user types half a call
]


@pytest.mark.parametrize("prompt", PROMPTS)
@pytest.mark.parametrize("choice", ["required", "forced"])
def test_constrained_tool_calls_are_always_valid(smollm2, prompt, choice):
    """Under a forced or required tool choice, SmolLM2 emits a call that parses and validates, every time."""
    tools = [get_current_time, convert_temperature]
    tool_choice = "required" if choice == "required" else {"type": "function", "function": {"name": "get_current_time"}}
    r = smollm2.chat([{"role": "user", "content": prompt}], tools=tools, tool_choice=tool_choice, max_tokens=64)
    assert r.finish_reason == "tool_calls" and len(r.tool_calls) == 1
    call = r.tool_calls[0]
    by_name = {t.name: t for t in tools}
    assert call.name in by_name
    if choice == "forced":
        assert call.name == "get_current_time"
    by_name[call.name].validate(json.loads(call.arguments))  # raises if the arguments break the schema


def test_auto_tool_call_is_valid_when_made(smollm2):
    r = smollm2.chat([{"role": "user", "content": "What time is it in Paris right now?"}], tools=[get_current_time])
    assert r.tool_calls and r.tool_calls[0].name == "get_current_time"
    get_current_time.validate(json.loads(r.tool_calls[0].arguments))


def test_tool_choice_none_answers_in_text(smollm2):
    msgs = [
        {"role": "user", "content": "What time is it in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "get_current_time", "arguments": '{"timezone": "Europe/Paris"}'}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "2026-11-21T21:05:00+01:00"},
    ]
    r = smollm2.chat(msgs, tools=[get_current_time], tool_choice="none", max_tokens=48)
    assert not r.tool_calls and r.content and "21:05" in r.content


def test_json_schema_output_is_valid(smollm2):
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
              "required": ["city", "unit"], "additionalProperties": False}
    r = smollm2.chat([{"role": "user", "content": "Weather in Paris in celsius, as JSON."}],
                     response_format=json_schema_format(schema), max_tokens=48)
    jsonschema.validate(json.loads(r.content), schema)


def test_streaming_usage_and_timings(smollm2):
    stream = smollm2.stream([{"role": "user", "content": "Name three colours."}], max_tokens=24, seed=1)
    pieces = [c.content for c in stream if c.content]
    r = stream.response
    assert "".join(pieces) == r.content and len(pieces) > 1
    assert r.usage.prompt_tokens > 5 and 1 < r.usage.completion_tokens <= 24
    assert 0 < r.timings.ttft_s <= r.timings.total_s and r.timings.tokens_per_s > 0


def test_temperature_zero_is_repeatable(smollm2):
    msgs = [{"role": "user", "content": "What is the capital of France?"}]
    assert smollm2.chat(msgs, max_tokens=20).content == smollm2.chat(msgs, max_tokens=20).content


def test_max_tokens_gives_length(smollm2):
    r = smollm2.chat([{"role": "user", "content": "Write a long story."}], max_tokens=5)
    assert r.finish_reason == "length" and r.usage.completion_tokens == 5


def test_prompt_longer_than_context_is_a_clear_error():
    small = LlamaCppBackend("smollm2-135m", n_ctx=256)
    with pytest.raises(BadRequestError, match="context"):
        small.chat([{"role": "user", "content": "word " * 400}])


def test_qwen_picks_the_right_tool():
    qwen = LlamaCppBackend("qwen2.5-coder-0.5b")
    r = qwen.chat([{"role": "user", "content": "What time is it in Tokyo?"}],
                  tools=[get_current_time, convert_temperature], max_tokens=48)
    assert r.tool_calls and r.tool_calls[0].name == "get_current_time"
    assert json.loads(r.tool_calls[0].arguments) == {"timezone": "Asia/Tokyo"}


def test_gemma_base_model_completes_but_has_no_chat():
    gemma = LlamaCppBackend("gemma3-270m")
    r = gemma.complete("The capital of France is", max_tokens=8)
    assert r.content and r.usage.completion_tokens > 0
    with pytest.raises(BadRequestError, match="no chat template"):
        gemma.chat([{"role": "user", "content": "hi"}])


def test_broken_model_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\xff" * 64)
    with pytest.raises(ModelFileError, match="could not load"):
        LlamaCppBackend("smollm2-135m", model_file=bad)


def test_merged_grammars_keep_literals_intact():
    g = 'root ::= "{" space "\\"root\\"" [a-z] space\nspace ::= " "?'
    out = prefix_rules(g, "t0-")
    assert out.startswith('t0-root ::= "{" t0-space "\\"root\\"" [a-z] t0-space')


def test_decision_format_parsing():
    assert parse_decision("message: hello") == ("hello", [])
    answer, calls = parse_decision('functions.get_current_time:\n{"timezone": "UTC"}')
    assert answer is None and calls[0].name == "get_current_time" and json.loads(calls[0].arguments) == {"timezone": "UTC"}
    assert "functions.add:" in tool_call_grammar_text([{"type": "function", "function": {"name": "add", "parameters": {}}}],
                                                      allow_answer=True, tagged=False)


def test_a_grammar_llama_cpp_cannot_parse_is_an_error_not_a_crash(smollm2):
    """llama-cpp-python 0.3.36 does not parse a grammar until sampling, where a bad one is a NULL
    sampler and a segmentation fault; the backend parses it first."""
    from course.backends import BadRequestError

    with pytest.raises(BadRequestError, match="cannot parse"):
        smollm2._check_grammar('root ::= "a"b"', "a test grammar")
    smollm2._check_grammar('root ::= "a"', "a test grammar")  # a good one passes


@pytest.mark.parametrize("name", ['a"b', "with space", "", "x" * 65, "naïve"])
def test_tool_names_outside_openais_rule_are_refused(name):
    from course.backends import BadRequestError
    from course.backends.base import tool_specs

    with pytest.raises(BadRequestError, match="not valid"):
        tool_specs([{"type": "function", "function": {"name": name, "parameters": {"type": "object"}}}])
