"""The source's VLLMManager, rewritten: real vLLM started, checked, used through the openai client, stopped."""

import json
import time

import openai

from course.vllm import metrics
from course.vllm.server import VllmServer, VllmSettings

with VllmServer(VllmSettings(model="smollm2-135m")) as server:  # `course vllm setup` made its environment
    print(f"vLLM serves smollm2-135m at {server.url}/v1 (started in {server.started_s:.0f} s)")
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="unused")
    print("models:", [m.id for m in client.models.list().data])

    reply = client.chat.completions.create(model="smollm2-135m", temperature=0, max_tokens=32,
                                           messages=[{"role": "user", "content": "What is the capital of France?"}])
    print("chat:", repr(reply.choices[0].message.content), "| usage:", reply.usage.prompt_tokens, "in,",
          reply.usage.completion_tokens, "out")

    start, pieces = time.perf_counter(), []
    for chunk in client.chat.completions.create(model="smollm2-135m", temperature=0, max_tokens=32, stream=True,
                                                messages=[{"role": "user", "content": "Name three colours."}]):
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
    print(f"stream: {len(pieces)} pieces in {time.perf_counter() - start:.2f} s: {''.join(pieces)!r}")

    schema = {"type": "object", "properties": {"city": {"type": "string"}, "country": {"type": "string"}},
              "required": ["city", "country"], "additionalProperties": False}
    reply = client.chat.completions.create(
        model="smollm2-135m", temperature=0, max_tokens=48,
        messages=[{"role": "user", "content": "Name a city and its country."}],
        response_format={"type": "json_schema", "json_schema": {"name": "place", "schema": schema}})
    place = json.loads(reply.choices[0].message.content)  # structured output: always valid against the schema
    print("json schema:", place)
    assert set(place) == {"city", "country"}

    figures = metrics.summary(metrics.scrape(server.url))
    print(f"/metrics: {figures['prompt_tokens']:.0f} prompt and {figures['generation_tokens']:.0f} generated "
          f"tokens so far, {figures['running']:.0f} running, {figures['waiting']:.0f} waiting, "
          f"time to first token p50 {figures['ttft_p50_s'] * 1000:.0f} ms")
print("stopped")
