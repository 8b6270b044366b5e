"""``course bench vllm`` (lesson 08): real vLLM on the CPU beside ``course serve`` and llama.cpp, and the small
rebuilds of :mod:`course.vllm` checked against it.

In one run, on the same model and the same prompts:

1. **continuous batching**: 1, 4, 16 and 64 clients at once, each sending one
   chat request; throughput (generated tokens per second over the wall time)
   and latency percentiles, on vLLM (``--max-num-seqs 64``), on ``course serve``
   (one generation at a time) and on llama.cpp in this process (one request
   after another, no HTTP);
2. **prefix caching**: a long shared system prompt, asked twice; the second
   request's latency and the positions vLLM's ``/metrics`` counts as
   prefix-cache hits, beside what :mod:`.paged` predicts for vLLM's CPU block
   size;
3. **preemption**: the same burst of long requests with a KV cache too small
   for all of them at once and with one big enough; vLLM's preemption count
   beside the simulator's (:mod:`.scheduler`);
4. **n-gram speculative decoding**: a copy task on the server with and
   without ``--speculative-config``; tokens per second, the acceptance rate
   from ``/metrics``, and whether the text is the same.

Every figure comes from this run; nothing here is a constant.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace

from ..observability import percentile
from ..vllm import metrics as prom
from ..vllm.server import NGRAM, VllmServer, VllmSettings

CLIENTS = (1, 4, 16, 64)
TOPICS = ["rivers", "bread", "clocks", "bridges", "owls", "glass", "tides", "maps", "copper", "tea", "kites", "moss",
          "trains", "salt", "violins", "deserts"]
VLLM_CPU_BLOCK_SIZE = 128  # vLLM's default block size on the CPU (vllm/platforms/cpu.py), 16 on GPUs
SYSTEM = ("You are the support assistant of a hardware shop. " * 60).strip()
COPY_TEXT = ("Order 4411: three brass hinges, two oak shelves, one tin of varnish. Order 4412: six steel brackets, "
             "one saw blade, two tins of varnish. Order 4413: three brass hinges, one oak shelf.")


def prompt(i: int) -> str:
    return f"Write two sentences about {TOPICS[i % len(TOPICS)]} (note {i})."


def load_test(send: Callable[[int], int], clients: int) -> dict:
    """``clients`` requests at once (``send(i)`` returns the tokens generated); throughput and latency."""
    latencies: list[float] = [0.0] * clients
    tokens: list[int] = [0] * clients
    errors: list[BaseException] = []

    def one(i: int) -> None:
        start = time.perf_counter()
        try:
            tokens[i] = send(i)
        except BaseException as exc:  # noqa: BLE001 - reported below, after the other clients finish
            errors.append(exc)
        latencies[i] = time.perf_counter() - start

    start = time.perf_counter()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"{len(errors)} of {clients} requests failed: {errors[0]!r}")
    return {"clients": clients, "tokens": sum(tokens), "seconds": wall, "tokens_per_s": sum(tokens) / wall,
            "p50_s": percentile(latencies, 50), "p95_s": percentile(latencies, 95)}


def openai_sender(url: str, model: str, max_tokens: int, **extra) -> Callable[[int], int]:
    import openai

    client = openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0, timeout=600)

    def send(i: int) -> int:
        r = client.chat.completions.create(model=model, messages=[{"role": "user", "content": prompt(i)}],
                                           max_tokens=max_tokens, temperature=0, extra_body=extra or None)
        return r.usage.completion_tokens

    return send


def prefix_experiment(url: str, model: str, tokenizer_len: Callable[[str], int]) -> dict:
    """The same long system prompt twice, different questions: hits and latency, predicted and measured."""
    import openai

    client = openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0, timeout=600)
    out = {}
    for name, question in (("first", "Which hinge holds a heavy door?"), ("second", "How do I oil a saw?")):
        before = prom.scrape(url)
        start = time.perf_counter()
        r = client.chat.completions.create(model=model, max_tokens=1, temperature=0, messages=[
            {"role": "system", "content": SYSTEM}, {"role": "user", "content": question}])
        seconds = time.perf_counter() - start
        after = prom.scrape(url)
        hits = (prom.total(after, prom.SERIES["prefix_hits"]) or 0) - (prom.total(before, prom.SERIES["prefix_hits"]) or 0)
        out[name] = {"seconds": seconds, "prompt_tokens": r.usage.prompt_tokens, "hits": hits}
    shared = tokenizer_len(SYSTEM)
    out["predicted_hits"] = predicted_prefix_hits(shared)
    out["shared_tokens_at_least"] = shared
    return out


def predicted_prefix_hits(shared_tokens: int) -> int:
    """Positions of the second prompt found in the cache: the whole blocks of the prefix both prompts share
    (the chat template's opening and the system prompt), which the first request cached."""
    return shared_tokens // VLLM_CPU_BLOCK_SIZE * VLLM_CPU_BLOCK_SIZE


def _burst(url: str, model: str, n: int, max_tokens: int) -> dict:
    before = prom.scrape(url)
    result = load_test(openai_sender(url, model, max_tokens, ignore_eos=True), n)
    after = prom.scrape(url)
    key = prom.SERIES["preemptions"]
    result["preemptions"] = (prom.total(after, key) or 0) - (prom.total(before, key) or 0)
    return result


def preemption_experiment(model: str, *, blocks: tuple[int, int], n: int, max_tokens: int,
                          prompt_tokens: list[list[int]], progress=None) -> dict:
    """The same burst with two KV cache sizes (in blocks): vLLM's preemptions beside the simulator's."""
    from ..vllm.scheduler import Request, SchedulerConfig, simulate

    out = {}
    for size in blocks:
        # vLLM keeps one block aside (its "null block"), and refuses a max_model_len the rest cannot hold once
        settings = VllmSettings(model=model, max_num_seqs=n, max_model_len=(size - 1) * VLLM_CPU_BLOCK_SIZE,
                                extra=["--num-gpu-blocks-override", str(size)])
        if progress:
            progress(f"vLLM with a KV cache of {size} blocks: {n} requests of {max_tokens} tokens at once")
        with VllmServer(settings) as server:
            measured = _burst(server.url, model, n, max_tokens)
        sim = simulate([Request(f"r{i}", ids, max_tokens) for i, ids in enumerate(prompt_tokens)],
                       num_blocks=size - 1, block_size=VLLM_CPU_BLOCK_SIZE,
                       config=SchedulerConfig(max_num_seqs=n, max_num_batched_tokens=4096))
        out[str(size)] = {"blocks": size, "measured_preemptions": measured["preemptions"],
                          "predicted_preemptions": sim.preemptions, "tokens_per_s": measured["tokens_per_s"]}
    return out


def copy_task(url: str, model: str, max_tokens: int) -> dict:
    import openai

    client = openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0, timeout=600)
    before = prom.scrape(url)
    start = time.perf_counter()
    r = client.chat.completions.create(model=model, max_tokens=max_tokens, temperature=0, messages=[
        {"role": "user", "content": f"Repeat the following text word for word:\n\n{COPY_TEXT}"}])
    seconds = time.perf_counter() - start
    after = prom.scrape(url)

    def delta(key: str) -> float:
        name = prom.SERIES[key]
        return (prom.total(after, name) or 0) - (prom.total(before, name) or 0)

    drafted, accepted = delta("spec_draft_tokens"), delta("spec_accepted")
    return {"text": r.choices[0].message.content, "tokens": r.usage.completion_tokens, "seconds": seconds,
            "tokens_per_s": r.usage.completion_tokens / seconds, "drafted": drafted, "accepted": accepted,
            "acceptance_rate": accepted / drafted if drafted else None}


def bench_vllm(model: str = "smollm2-135m", *, clients: tuple[int, ...] = CLIENTS, max_tokens: int = 32,
               progress: Callable[[str], None] | None = None) -> dict:
    from ..backends.llama_cpp import LlamaCppBackend
    from ..backends.llama_loader import unload_all
    from ..servers import CourseServer
    from ..vllm.setup import require_setup

    require_setup()
    say = progress or (lambda _: None)
    result: dict = {"model": model, "max_tokens": max_tokens, "clients": list(clients), "throughput": {}}
    base = VllmSettings(model=model, max_num_seqs=max(clients))
    backend = LlamaCppBackend(model)
    tokens_of = lambda text: backend.count_tokens(text)  # noqa: E731 - the same tokenizer, through the GGUF file

    say("vLLM: starting (eager mode), then 1 to 64 clients, the prefix cache, the copy task")
    with VllmServer(base) as server:
        result["vllm_start_s"] = server.started_s
        result["kv_cache_tokens"] = server.kv_cache_tokens()
        send = openai_sender(server.url, model, max_tokens)
        load_test(send, 2)  # warm-up
        result["throughput"]["vllm"] = [load_test(send, n) for n in clients]
        result["vllm_resident_bytes"] = server.resident_bytes()
        result["prefix"] = prefix_experiment(server.url, model, tokens_of)
        result["copy"] = {"plain": copy_task(server.url, model, 96)}
    say("vLLM with n-gram speculative decoding: the copy task again")
    with VllmServer(replace(base, speculative=NGRAM)) as server:
        result["copy"]["ngram"] = copy_task(server.url, model, 96)
    result["copy"]["same_text"] = result["copy"]["plain"]["text"] == result["copy"]["ngram"]["text"]

    n, long_tokens = 8, 200
    ids = [chat_ids(backend, prompt(i)) for i in range(n)]  # the prompts as vLLM sees them, template included
    need = -(-(max(len(x) for x in ids) + long_tokens) // VLLM_CPU_BLOCK_SIZE)
    result["preemption"] = preemption_experiment(model, blocks=(need * n // 2 + 1, need * n + 1), n=n,
                                                 max_tokens=long_tokens, prompt_tokens=ids, progress=say)

    say("course serve: one generation at a time")
    with CourseServer(port=0, models=[model]) as cs:
        send = openai_sender(cs.url, model, max_tokens)
        load_test(send, 1)
        result["throughput"]["course serve"] = [load_test(send, n) for n in clients]
    say("llama.cpp in this process: one request after another")

    def in_process(i: int) -> int:
        return backend.chat([{"role": "user", "content": prompt(i)}], max_tokens=max_tokens,
                            temperature=0).usage.completion_tokens

    result["throughput"]["llama.cpp"] = [_sequential(in_process, n) for n in clients]
    unload_all()
    return result


def chat_ids(backend, text: str) -> list[int]:
    """A user message through the model's chat template, as token ids."""
    from ..backends.base import normalize_messages
    from ..backends.types import ChatRequest

    rendered = backend.render_prompt(ChatRequest(messages=normalize_messages([{"role": "user", "content": text}])))
    return backend.llm.tokenize(rendered.encode(), add_bos=False, special=True)


def _sequential(send: Callable[[int], int], n: int) -> dict:
    """``n`` requests one after another (what a server without batching does with ``n`` clients)."""
    latencies, tokens = [], 0
    start = time.perf_counter()
    for i in range(n):
        tokens += send(i)
        latencies.append(time.perf_counter() - start)  # a queued client waits for all before it
    wall = time.perf_counter() - start
    return {"clients": n, "tokens": tokens, "seconds": wall, "tokens_per_s": tokens / wall,
            "p50_s": percentile(latencies, 50), "p95_s": percentile(latencies, 95)}


def speedups(result: dict) -> dict[int, float]:
    """vLLM's throughput over course serve's, per number of clients."""
    v = {r["clients"]: r["tokens_per_s"] for r in result["throughput"]["vllm"]}
    c = {r["clients"]: r["tokens_per_s"] for r in result["throughput"]["course serve"]}
    return {n: v[n] / c[n] for n in v if c.get(n)}


__all__ = ["bench_vllm", "load_test", "predicted_prefix_hits", "speedups"]
