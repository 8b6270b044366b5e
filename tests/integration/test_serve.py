"""``course serve`` driven by the real ``openai`` and ``ollama`` clients, with the real models.

One server (in a thread of this process, on a free loopback port) serves the
module; each test says what a client of that protocol relies on.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import httpx
import jsonschema
import ollama
import openai
import pytest
from pydantic import BaseModel

from course.models import model_status
from course.servers import CourseServer

MODEL = "smollm2-135m"
QWEN = "qwen2.5-coder-0.5b"
HAVE_QWEN = model_status(QWEN).installed
QUESTION = [{"role": "user", "content": "What is the capital of France?"}]

WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Get the current weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"},
                                                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                   "required": ["city", "unit"]}}}


@pytest.fixture(scope="module")
def server():
    record: list = []
    log: list[str] = []
    models = [MODEL, "gemma3-270m"] + ([QWEN] if HAVE_QWEN else [])
    with CourseServer(port=0, models=models, log=log.append, record=record) as s:
        s.record, s.log = record, log
        yield s


@pytest.fixture
def oai(server):
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0, timeout=120)
    yield client
    client.close()


@pytest.fixture
def oll(server):
    return ollama.Client(host=server.url, timeout=120)


# -- the OpenAI face ----------------------------------------------------------------
def test_models_lists_the_installed_models(oai):
    ids = [m.id for m in oai.models.list().data]
    assert MODEL in ids and "gemma3-270m" in ids
    assert (QWEN in ids) == HAVE_QWEN
    assert oai.models.retrieve(MODEL).id == MODEL


def test_chat_completion_is_deterministic_at_temperature_0_and_reports_usage(oai):
    first = oai.chat.completions.create(model=MODEL, messages=QUESTION, temperature=0, max_tokens=24)
    again = oai.chat.completions.create(model=MODEL, messages=QUESTION, temperature=0, max_tokens=24)
    choice = first.choices[0]
    assert choice.message.role == "assistant" and choice.message.content
    assert choice.message.content == again.choices[0].message.content
    assert choice.finish_reason in ("stop", "length")
    assert first.usage.prompt_tokens > 5 and 0 < first.usage.completion_tokens <= 24
    assert first.usage.total_tokens == first.usage.prompt_tokens + first.usage.completion_tokens


def test_streamed_deltas_join_to_the_same_reply_with_usage_last(oai):
    whole = oai.chat.completions.create(model=MODEL, messages=QUESTION, temperature=0, max_tokens=24)
    chunks = list(oai.chat.completions.create(model=MODEL, messages=QUESTION, temperature=0, max_tokens=24,
                                              stream=True, stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] in ("stop", "length")
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == whole.usage.completion_tokens


def test_forced_tool_call_matches_the_schema_and_the_follow_up_shapes_are_accepted(oai, server):
    forced = {"type": "function", "function": {"name": "get_weather"}}
    messages = [{"role": "user", "content": "What is the weather in Paris in celsius?"}]
    reply = oai.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER_TOOL], tool_choice=forced,
                                        temperature=0)
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.function.name == "get_weather" and call.id.startswith("call_")
    args = json.loads(call.function.arguments)
    jsonschema.validate(args, WEATHER_TOOL["function"]["parameters"])
    result = {"role": "tool", "tool_call_id": call.id, "content": "18 C and sunny"}
    call_dict = {"id": call.id, "type": "function",
                 "function": {"name": "get_weather", "arguments": call.function.arguments}}
    # the shapes llama.cpp's own server answers 500 to: no content key, content null; and text parts
    for assistant in ({"role": "assistant", "tool_calls": [call_dict]},
                      {"role": "assistant", "content": None, "tool_calls": [call_dict]},
                      {"role": "assistant", "content": [{"type": "text", "text": ""}], "tool_calls": [call_dict]}):
        follow = oai.chat.completions.create(model=MODEL, messages=messages + [assistant, result],
                                             tools=[WEATHER_TOOL], tool_choice="none", temperature=0, max_tokens=40)
        assert follow.choices[0].finish_reason in ("stop", "length")
        assert follow.choices[0].message.content and not follow.choices[0].message.tool_calls


def test_streamed_tool_call_arrives_whole_with_an_index(oai):
    chunks = list(oai.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Weather in Oslo, celsius?"}], tools=[WEATHER_TOOL],
        tool_choice="required", temperature=0, stream=True))
    deltas = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
    assert len(deltas) == 1 and deltas[0].index == 0 and deltas[0].function.name == "get_weather"
    jsonschema.validate(json.loads(deltas[0].function.arguments), WEATHER_TOOL["function"]["parameters"])
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_response_format_json_schema_gives_a_valid_document(oai):
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "country": {"type": "string"}},
              "required": ["city", "country"], "additionalProperties": False}
    reply = oai.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Name a city and its country as JSON."}], temperature=0,
        response_format={"type": "json_schema", "json_schema": {"name": "place", "schema": schema}}, max_tokens=60)
    jsonschema.validate(json.loads(reply.choices[0].message.content), schema)


def test_embeddings_through_the_openai_client_are_unit_vectors(oai):
    data = oai.embeddings.create(model=MODEL, input=["The sky is blue.", "The sky is azure.", "Cats purr."]).data
    vectors = [d.embedding for d in data]
    assert [len(v) for v in vectors] == [576] * 3  # SmolLM2's hidden size, base64 decoded by the client
    dot = lambda a, b: sum(x * y for x, y in zip(a, b))  # noqa: E731
    assert all(abs(dot(v, v) - 1) < 1e-3 for v in vectors)
    assert dot(vectors[0], vectors[1]) > dot(vectors[0], vectors[2])


@pytest.mark.parametrize("body,status,words", [
    ({"model": "nope", "messages": QUESTION}, 404, "not found"),
    ({"model": MODEL, "messages": "hello"}, 400, "'messages' must be a list"),
    ({"model": MODEL, "messages": []}, 400, "messages is empty"),
    ({"model": MODEL, "messages": [{"role": "wizard", "content": "hi"}]}, 400, "role"),
    ({"model": MODEL, "messages": QUESTION, "n": 2}, 400, "'n' must be 1"),
    ({"model": MODEL, "messages": QUESTION, "max_tokens": "ten"}, 400, "'max_tokens' must be an integer"),
    ({"model": MODEL, "messages": QUESTION, "temperature": 7}, 400, "temperature"),
    ({"model": MODEL, "messages": QUESTION, "tools": [WEATHER_TOOL], "tool_choice": {"type": "function",
      "function": {"name": "launch"}}}, 400, "launch"),
    ({"model": MODEL, "messages": QUESTION, "frobnicate": True}, 400, "frobnicate"),
    ({"model": MODEL, "messages": [{"role": "tool", "content": "x"}]}, 400, "tool_call_id"),
    # a quote in a tool name used to reach llama.cpp's grammar parser, whose failure crashed the process
    ({"model": MODEL, "messages": QUESTION, "tool_choice": "required", "tools": [
        {"type": "function", "function": {"name": 'a"b', "parameters": {"type": "object"}}}]}, 400, "not valid"),
    ({"model": MODEL, "messages": QUESTION, "response_format": {"type": "json_schema", "json_schema": {
        "name": "x", "schema": {"type": "object", "properties": {"a": {"$ref": "#/nowhere"}}}}}}, 400, "grammar"),
    ({"model": MODEL, "messages": QUESTION, "tool_choice": "required", "tools": [
        {"type": "function", "function": {"name": "f", "parameters": {"type": "frob"}}}]}, 400, "grammar"),
    ({"model": MODEL, "messages": [{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": "nope"}]},
     400, "tool_calls must be a list"),
    ({"model": MODEL, "messages": [{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": [{"id": 1}]}]},
     400, "function.name"),
    ({"model": MODEL, "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]},
     400, "text content parts"),
    # these were 500s (issue 18): parameters that are not a schema object
    ({"model": MODEL, "messages": QUESTION, "tools": [
        {"type": "function", "function": {"name": "f", "parameters": ["city"]}}]}, 400, "parameters must be a JSON schema"),
])
def test_bad_chat_requests_get_a_4xx_in_openais_shape(server, body, status, words):
    r = httpx.post(server.url + "/v1/chat/completions", json=body, timeout=60)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert words in error["message"] and error["type"].endswith("error")


def test_malformed_and_oversized_bodies_get_clear_errors(server):
    url = server.url + "/v1/chat/completions"
    r = httpx.post(url, content=b'{"model": "smollm2-135m", "messages": [', headers={"content-type": "application/json"})
    assert r.status_code == 400 and "not valid JSON" in r.json()["error"]["message"]
    r = httpx.post(url, content=b"[1, 2]")
    assert r.status_code == 400 and "JSON object" in r.json()["error"]["message"]
    r = httpx.post(url, content=b"\xff\xfe{}")
    assert r.status_code == 400
    r = httpx.post(url, content=b"x" * (5 * 2**20))
    assert r.status_code == 413 and "limit" in r.json()["error"]["message"]
    r = httpx.post(server.url + "/api/chat", content=b"{oops")
    assert r.status_code == 400 and "not valid JSON" in r.json()["error"]  # Ollama's shape: a string
    assert httpx.get(server.url + "/v1/nothing").status_code == 404
    assert httpx.get(server.url + "/v1/chat/completions").status_code == 405
    assert httpx.get(server.url + "/api/tags").status_code == 200  # still serving


def test_the_openai_client_raises_its_own_errors(oai):
    with pytest.raises(openai.NotFoundError, match="not found"):
        oai.chat.completions.create(model="gpt-9", messages=QUESTION)
    with pytest.raises(openai.BadRequestError, match="base model"):
        oai.chat.completions.create(model="gemma3-270m", messages=QUESTION, max_tokens=4)


# -- the Ollama face ----------------------------------------------------------------
def test_version_list_show_and_pull(oll, server):
    assert httpx.get(server.url + "/api/version").json()["version"].count(".") == 2
    names = [m.model for m in oll.list().models]
    assert f"{MODEL}:latest" in names
    listed = next(m for m in oll.list().models if m.model == f"{MODEL}:latest")
    assert listed.size == 98_362_432 and listed.details.quantization_level == "Q4_1" and listed.digest
    shown = oll.show(MODEL)
    assert shown.details.format == "gguf" and "tools" in shown.capabilities
    assert shown.modelinfo["general.architecture"] == "llama" and "<|im_start|>" in shown.template
    statuses = [p.status for p in oll.pull(MODEL, stream=True)]
    assert statuses[0] == "pulling manifest" and statuses[-1] == "success"
    assert oll.pull(MODEL).status == "success"  # stream=False: one object
    with pytest.raises(ollama.ResponseError) as err:
        oll.pull("llama3.2")
    assert err.value.status_code == 404 and "not found" in err.value.error


def test_chat_streams_ndjson_and_ends_with_counts_and_durations(oll):
    options = {"temperature": 0, "num_predict": 24}
    whole = oll.chat(model=MODEL, messages=QUESTION, options=options, stream=False)
    parts = list(oll.chat(model=MODEL, messages=QUESTION, options=options, stream=True))
    assert "".join(p.message.content for p in parts) == whole.message.content
    assert [p.done for p in parts].count(True) == 1 and parts[-1].done
    last = parts[-1]
    assert last.done_reason in ("stop", "length") and last.eval_count == whole.eval_count
    assert last.prompt_eval_count > 5 and 0 < last.eval_count <= 24
    assert last.total_duration >= last.eval_duration > 0 and last.prompt_eval_duration > 0  # nanoseconds


def test_num_predict_stops_the_reply_with_done_reason_length(oll):
    r = oll.chat(model=MODEL, messages=[{"role": "user", "content": "Tell me a long story."}],
                 options={"temperature": 0, "num_predict": 5})
    assert r.eval_count == 5 and r.done_reason == "length"


def test_a_seed_makes_sampling_repeatable(oll):
    options = {"temperature": 1.0, "seed": 42, "num_predict": 16}
    a = oll.generate(model=MODEL, prompt="Write a word.", options=options).response
    b = oll.generate(model=MODEL, prompt="Write a word.", options=options).response
    assert a == b


def test_generate_on_the_base_model_and_raw_mode(oll):
    r = oll.generate(model="gemma3-270m", prompt="The capital of France is", options={"temperature": 0, "num_predict": 6})
    assert r.response.strip() and r.done and r.eval_count <= 6
    raw = oll.generate(model=MODEL, prompt="<|im_start|>user\nSay OK<|im_end|>\n<|im_start|>assistant\n", raw=True,
                       options={"temperature": 0, "num_predict": 8})
    assert raw.response.strip()
    with pytest.raises(ollama.ResponseError, match="base model"):
        oll.chat(model="gemma3-270m", messages=QUESTION)


def test_format_json_and_schema(oll):
    class Place(BaseModel):
        city: str
        country: str

    r = oll.chat(model=MODEL, messages=[{"role": "user", "content": "A city and its country, as JSON."}],
                 format=Place.model_json_schema(), options={"temperature": 0, "num_predict": 60})
    Place.model_validate_json(r.message.content)
    r = oll.generate(model=MODEL, prompt="Describe a cat as a JSON object with the keys name and age.",
                     format="json", options={"temperature": 0, "num_predict": 120})
    assert r.done_reason == "stop" and isinstance(json.loads(r.response), dict)


class Weather(BaseModel):
    city: str
    unit: str


def test_a_tool_call_comes_with_object_arguments_that_parse_into_pydantic_types(oll):
    def get_weather(city: str, unit: str) -> str:
        """Get the current weather in a city.

        Args:
          city: the city
          unit: celsius or fahrenheit
        """
        return "sunny"

    r = oll.chat(model=MODEL, messages=[{"role": "user", "content": "What's the weather in Paris in celsius?"}],
                 tools=[get_weather], options={"temperature": 0})
    call = r.message.tool_calls[0]
    assert call.function.name == "get_weather"
    args = Weather.model_validate(call.function.arguments)  # arguments arrive as an object, not text
    assert args.city
    # the follow-up turn: the call with object arguments, the result named by tool_name
    follow = oll.chat(model=MODEL, options={"temperature": 0, "num_predict": 40}, messages=[
        {"role": "user", "content": "What's the weather in Paris in celsius?"},
        {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "get_weather",
                                                                            "arguments": args.model_dump()}}]},
        {"role": "tool", "tool_name": "get_weather", "content": "18 degrees and sunny"}])
    assert follow.message.content


def test_embed_and_legacy_embeddings(oll):
    r = oll.embed(model=MODEL, input=["hello", "world"])
    assert len(r.embeddings) == 2 and len(r.embeddings[0]) == 576 and r.prompt_eval_count >= 2
    assert len(oll.embeddings(model=MODEL, prompt="hello").embedding) == 576
    with pytest.raises(ollama.ResponseError, match="longer than the context"):
        oll.embed(model=MODEL, input="word " * 700, truncate=False)


def test_ps_shows_what_is_loaded_and_keep_alive_0_unloads(oll, server):
    oll.generate(model="gemma3-270m", prompt="Hi", options={"num_predict": 1})
    running = {m.model: m for m in oll.ps().models}
    assert "gemma3-270m:latest" in running
    gemma = running["gemma3-270m:latest"]
    assert gemma.size > 253_113_024 and gemma.context_length == 4096 and gemma.size_vram == 0
    assert gemma.expires_at.timestamp() > time.time() + 200  # five minutes, minus this test
    r = oll.generate(model="gemma3-270m", keep_alive=0)  # Ollama's empty request with keep_alive 0
    assert r.done_reason == "unload"
    assert "gemma3-270m:latest" not in {m.model for m in oll.ps().models}
    assert oll.generate(model="gemma3-270m").done_reason == "load"
    assert "gemma3-270m:latest" in {m.model for m in oll.ps().models}


def test_create_derives_a_model_with_a_system_prompt(oll, server):
    assert oll.create(model="pirate", from_=MODEL, system="You are a pirate. Answer like one.",
                      parameters={"temperature": 0, "num_predict": 30}).status == "success"
    assert "pirate:latest" in [m.model for m in oll.list().models]
    shown = oll.show("pirate")
    assert shown.details.parent_model == f"{MODEL}:latest" and "SYSTEM" in shown.modelfile
    server.record.clear()
    r = oll.chat(model="pirate", messages=[{"role": "user", "content": "Hello!"}])
    assert r.message.content and r.eval_count <= 30
    with pytest.raises(ollama.ResponseError, match="template"):
        oll.create(model="bad", from_=MODEL, template="{{ .Prompt }}")
    oll.delete("pirate")
    with pytest.raises(ollama.ResponseError):
        oll.chat(model="pirate", messages=[{"role": "user", "content": "Hello!"}])


@pytest.mark.parametrize("body,words", [
    ({"messages": QUESTION}, "'model' is required"),
    ({"model": MODEL, "messages": [{"role": "user", "content": 5}]}, "content must be a string"),
    ({"model": MODEL, "messages": QUESTION, "options": {"temprature": 0}}, "unknown option"),
    ({"model": MODEL, "messages": QUESTION, "options": {"num_ctx": "big"}}, "num_ctx must be an integer"),
    ({"model": MODEL, "messages": QUESTION, "keep_alive": "soon"}, "keep_alive"),
    ({"model": MODEL, "messages": QUESTION, "format": 12}, "'format' must be"),
    ({"model": MODEL, "messages": [{"role": "assistant", "content": "", "tool_calls": [
        {"function": {"name": "f", "arguments": "{\"a\": 1}"}}]}]}, "must be an object"),
    ({"model": MODEL, "messages": [{"role": "assistant", "tool_calls": 5}]}, "must be a list"),
    ({"model": MODEL, "messages": QUESTION, "options": {"num_ctx": 131072}}, "trained for"),  # 3 GB of KV cache
    ({"model": MODEL, "messages": QUESTION, "tools": [{"function": {"name": "x y", "parameters": {}}}]}, "not valid"),
])
def test_bad_ollama_requests_get_a_400_with_an_error_string(server, body, words):
    r = httpx.post(server.url + "/api/chat", json=body, timeout=60)
    assert r.status_code == 400 and words in r.json()["error"], r.text


# -- the Microsoft Agent Framework through the OpenAI face ----------------------------
def test_agent_framework_completes_a_tool_round_trip(server):
    import asyncio
    from typing import Annotated

    from agent_framework import Agent, tool
    from agent_framework.openai import OpenAIChatCompletionClient

    asked: list[str] = []

    @tool(approval_mode="never_require")
    def get_weather(city: Annotated[str, "the city"]) -> str:
        """Get the current weather in a city."""
        asked.append(city)
        return f"It is sunny and 21 C in {city}."

    async def run():
        client = OpenAIChatCompletionClient(model=MODEL, base_url=server.url + "/v1", api_key="unused")
        client.function_invocation_configuration["max_function_calls"] = 1  # then it must answer
        agent = Agent(client, instructions="You answer questions about the weather using the tool.",
                      name="weather", tools=[get_weather], default_options={"temperature": 0, "max_tokens": 80})
        return await agent.run("What is the weather in Paris?")

    server.record.clear()
    result = asyncio.run(run())
    assert asked == ["Paris"]
    kinds = [c.type for m in result.messages for c in m.contents]
    assert kinds[:2] == ["function_call", "function_result"] and kinds[-1] == "text"
    assert "sunny" in result.text.lower() or "21" in result.text
    bodies = [json.loads(body) for method, path, body in server.record if path == "/v1/chat/completions"]
    follow_up = bodies[-1]["messages"]
    assistant = next(m for m in follow_up if m["role"] == "assistant")
    assert assistant.get("tool_calls") and not assistant.get("content")  # the shape llama.cpp's server rejects
    assert any(m["role"] == "tool" for m in follow_up)


# -- robustness -----------------------------------------------------------------------
def _raw_request(server, body: dict, path: str = "/api/chat") -> socket.socket:
    data = json.dumps(body).encode()
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=60)
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
    return sock


def test_a_client_that_leaves_mid_stream_stops_its_generation_and_the_server_keeps_serving(server, oll):
    server.log.clear()
    sock = _raw_request(server, {"model": MODEL, "messages": [{"role": "user", "content": "Count to a thousand."}],
                                 "options": {"num_predict": 2000, "temperature": 0}})
    got = b""
    while got.count(b'"done": false') < 3:  # the stream has begun
        got += sock.recv(4096)
    sock.close()
    r = oll.chat(model=MODEL, messages=QUESTION, options={"temperature": 0, "num_predict": 8})
    assert r.done
    deadline = time.monotonic() + 30
    while not any("left mid-stream" in line for line in server.log) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert any("left mid-stream" in line for line in server.log), server.log[-5:]


def test_concurrent_requests_are_queued_and_all_answered(server):
    results: dict[int, str] = {}

    def ask(i: int) -> None:
        client = ollama.Client(host=server.url, timeout=300)
        r = client.chat(model=MODEL, messages=[{"role": "user", "content": f"Say the number {i}."}],
                        options={"temperature": 0, "num_predict": 12})
        results[i] = r.message.content

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert sorted(results) == list(range(6)) and all(results.values())


def test_silent_and_garbage_clients_do_not_block_others(server, oll):
    silent = socket.create_connection(("127.0.0.1", server.port))
    silent.sendall(b"POST /api/chat HTTP/1.1\r\nContent-Length: 100\r\n\r\n{")  # and then nothing
    garbage = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    garbage.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n")
    answer = garbage.recv(200)
    assert answer.startswith(b"HTTP/1.") and b" 400 " in answer.split(b"\r\n")[0]
    garbage.close()
    assert oll.list().models  # served while the silent client holds its connection
    silent.close()


def test_api_key_is_required_when_set(tmp_path):
    with CourseServer(port=0, models=[MODEL], api_key="s3cret") as s:
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=s.url + "/v1", api_key="wrong", max_retries=0).models.list()
        assert [m.id for m in openai.OpenAI(base_url=s.url + "/v1", api_key="s3cret").models.list().data] == [MODEL]
        with pytest.raises(ollama.ResponseError) as err:
            ollama.Client(host=s.url).list()
        assert err.value.status_code == 401
        assert ollama.Client(host=s.url, headers={"Authorization": "Bearer s3cret"}).list().models
        assert httpx.get(s.url + "/").status_code == 200  # the liveness probe stays open


def test_binding_beyond_loopback_needs_a_flag():
    from course.servers import ExposureError

    with pytest.raises(ExposureError, match="--allow-remote"):
        CourseServer(host="0.0.0.0", port=0, models=[MODEL])


@pytest.mark.parametrize("path,body", [
    ("/v1/embeddings", {"model": MODEL, "input": ""}),
    ("/v1/embeddings", {"model": MODEL, "input": ["x", ""]}),
    ("/api/embed", {"model": MODEL, "input": ""}),
    ("/api/embeddings", {"model": MODEL, "prompt": ""}),
])
def test_an_empty_text_to_embed_is_a_400_and_the_server_lives_on(server, path, body):
    """Embedding nothing made llama.cpp corrupt its heap and the server abort (issue 18)."""
    r = httpx.post(server.url + path, json=body, timeout=60)
    assert r.status_code == 400 and "is empty" in r.text, r.text
    assert httpx.post(server.url + "/api/embed", json={"model": MODEL, "input": "still here"},
                      timeout=60).status_code == 200


def test_deep_nesting_and_an_endless_keep_alive_are_not_500s(server):
    """100k nested arrays made the JSON parser recurse out of its stack; keep_alive 1e300 broke /api/ps."""
    deep = b'{"model": "smollm2-135m", "messages": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    r = httpx.post(server.url + "/v1/chat/completions", content=deep, headers={"content-type": "application/json"},
                   timeout=60)
    assert r.status_code == 400 and "too deeply" in r.text
    r = httpx.post(server.url + "/api/generate", json={"model": MODEL, "keep_alive": 1e300}, timeout=60)
    assert r.status_code == 200, r.text
    ps = httpx.get(server.url + "/api/ps", timeout=60)
    assert ps.status_code == 200 and any(m["model"] == f"{MODEL}:latest" for m in ps.json()["models"])
    httpx.post(server.url + "/api/generate", json={"model": MODEL, "keep_alive": 0}, timeout=60)


def test_stop_sequences_end_the_reply_on_both_faces(oai, oll):
    """Agent frameworks send `stop`: it was a 400 on /v1 and ignored on /api (issue 18)."""
    count = [{"role": "user", "content": "Count from 1 to 10, separated by commas."}]
    whole = oai.chat.completions.create(model=MODEL, messages=count, temperature=0, max_tokens=40)
    text = whole.choices[0].message.content
    assert ", 4" in text  # the model does count, so the cut below is a real one
    cut = oai.chat.completions.create(model=MODEL, messages=count, temperature=0, max_tokens=40, stop=[", 4"])
    assert cut.choices[0].message.content == text[:text.index(", 4")]
    assert cut.choices[0].finish_reason == "stop" and cut.usage.completion_tokens < whole.usage.completion_tokens
    streamed = "".join(c.choices[0].delta.content or "" for c in oai.chat.completions.create(
        model=MODEL, messages=count, temperature=0, max_tokens=40, stop=", 4", stream=True) if c.choices)
    assert streamed == text[:text.index(", 4")]
    native = oll.chat(model=MODEL, messages=count, options={"temperature": 0, "num_predict": 40, "stop": [", 4"]})
    assert native.message.content == text[:text.index(", 4")] and native.done_reason == "stop"
    r = httpx.post(oai.base_url.join("chat/completions").__str__(), json={"model": MODEL, "messages": count,
                                                                           "stop": [""]}, timeout=60)
    assert r.status_code == 400 and "stop must be a non-empty string" in r.json()["error"]["message"]


def test_idle_open_connections_do_not_slow_generation_on_another(server):
    """Generations ran slower while other connections that had generated stayed open (each connection's
    thread had its own llama.cpp OpenMP team, and idle teams spin; issue 18): 2-3x on the machine of the
    report, 1.21-1.25x on this project's 2-core one with three such connections, 1.00x since every
    computation runs on the engine's one thread. What is checked is that cause, not a wall-clock ratio (a ratio
    bound of 1.15 failed on noise alone, at 1.15 and 1.19): connections that generate and stay open start no
    thread the interpreter does not know of (an OpenMP team is such threads). The ratio of medians, with
    those connections open and closed in three interleaved rounds, is printed beside it."""
    tasks = Path("/proc/self/task")
    if not tasks.is_dir():
        pytest.skip("counts the process's threads in /proc/self/task (Linux)")

    def foreign_threads() -> int:
        return len(list(tasks.iterdir())) - threading.active_count()

    def client():
        return openai.OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0, timeout=120)

    def times_s(c, n=3):
        times = []
        for _ in range(n):
            start = time.perf_counter()
            c.chat.completions.create(model=MODEL, messages=QUESTION, temperature=0, max_tokens=16)
            times.append(time.perf_counter() - start)
        return times

    def median(values):
        return sorted(values)[len(values) // 2]

    mine = client()
    alone_t, beside_t, grown = [], [], []
    try:
        times_s(mine, 1)  # warm: the engine's thread and its OpenMP team exist from here on
        for _ in range(3):
            alone_t += times_s(mine)
            before = foreign_threads()
            others = [client() for _ in range(3)]
            try:
                for other in others:  # each generates once, then stays open and idle, as the official clients do
                    other.chat.completions.create(model=MODEL, messages=QUESTION, temperature=0, max_tokens=4)
                grown.append(foreign_threads() - before)
                beside_t += times_s(mine)
            finally:
                for other in others:
                    other.close()
    finally:
        mine.close()
    alone, beside = median(alone_t), median(beside_t)
    print(f"median {beside:.3f} s with three idle connections open, {alone:.3f} s without "
          f"({beside / alone:.2f}x)")
    assert max(grown) <= 0, (f"three connections that generated started {max(grown)} threads outside the "
                             f"interpreter (an OpenMP team per connection thread?)")
