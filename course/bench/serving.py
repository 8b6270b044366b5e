"""What a protocol face costs: ``course serve`` beside the in-process backend, and under concurrent clients.

Overhead: the same model, the same prompt, the same settings (greedy, same
``max_tokens``, so the same reply), in one run:

- in process: :class:`~course.backends.LlamaCppBackend` in this process, alone
  (the reference latency);
- the OpenAI face: the official ``openai`` client against ``course serve``;
- the Ollama face: the official ``ollama`` client against the same server,
  interleaved with the OpenAI face request by request.

The server runs in a child process (``course serve --port N``), as a learner
runs it. A face's overhead is measured per request: the client's latency minus
the time the server spent loading and generating for that very request (the
``Server-Timing`` header of the OpenAI face, ``total_duration`` of the Ollama
face). What remains is HTTP, JSON, the client library and the server's queue.
The in-process runs happen before the server starts: llama.cpp's worker
threads spin for a while after a generation, so two processes generating in
turn slow each other down, which would be counted as overhead.

Throughput: 1, 2 and 4 clients, each sending the same requests back to back;
completion tokens per second of wall time, and each client's request latency.
The engine runs one generation at a time (llama.cpp already uses every core),
so more clients should raise latency, not throughput.
"""

from __future__ import annotations

import contextlib
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass

from ..models import DEFAULT_MODEL
from ..net import free_port, served
from ..observability import percentile

PROMPT = [{"role": "user", "content": "Name three uses of a small language model on a phone."}]


@dataclass
class Latency:
    p50_ms: float
    p95_ms: float
    mean_ms: float


@dataclass
class Throughput:
    clients: int
    requests: int
    wall_s: float
    tokens: int
    tokens_per_s: float
    latency: Latency


@dataclass
class ServingBench:
    model: str
    runs: int
    max_tokens: int
    tokens_per_reply: int
    in_process: Latency
    openai_face: Latency
    ollama_face: Latency
    openai_overhead: Latency
    ollama_overhead: Latency
    throughput: list[Throughput]

    def end_to_end_ratio(self, face: str) -> float:
        """A face's median end-to-end latency through its official client over the in-process median.

        Both clients keep their connections open all along, as they do by default, so a server whose
        generation slows while other connections are open shows it here (the overhead, with the server's
        own time subtracted, cannot)."""
        latency = self.openai_face if face == "openai" else self.ollama_face
        return latency.p50_ms / self.in_process.p50_ms if self.in_process.p50_ms else 0.0

    def to_dict(self) -> dict:
        return asdict(self) | {"end_to_end_ratio": {face: self.end_to_end_ratio(face) for face in ("openai", "ollama")}}


def latency(seconds: list[float]) -> Latency:
    ms = [s * 1000 for s in seconds]
    return Latency(percentile(ms, 50), percentile(ms, 95), statistics.fmean(ms))


SETTLE_S = 0.3  # after a generation, llama.cpp's idle OpenMP threads spin for a few milliseconds


@contextlib.contextmanager
def course_serve(model: str) -> Iterator[str]:
    """``course serve`` in a child process on a free port, always stopped on exit; yields its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with served([sys.executable, "-m", "course", "serve", "--port", str(port), "--model", model, "--quiet",
                 "--keep-alive", "-1"], url + "/health", timeout=60):
        yield url


def bench_serving(model: str = DEFAULT_MODEL, *, runs: int = 20, max_tokens: int = 16,
                  concurrency: tuple[int, ...] = (1, 2, 4), requests_per_client: int = 4,
                  progress=None) -> ServingBench:
    import ollama
    import openai

    from ..backends.llama_cpp import LlamaCppBackend
    from ..backends.llama_loader import unload_all

    backend = LlamaCppBackend(model)
    backend.chat(PROMPT, temperature=0, max_tokens=max_tokens)  # warm up
    tokens: set[int] = set()

    def in_process() -> tuple[int, float]:
        start = time.perf_counter()
        n = backend.chat(PROMPT, temperature=0, max_tokens=max_tokens).usage.completion_tokens
        return n, time.perf_counter() - start

    with course_serve(model) as url:
        oai = openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0, timeout=300)
        oll = ollama.Client(host=url, timeout=300)
        options = {"temperature": 0, "num_predict": max_tokens}

        def via_openai() -> tuple[int, float]:
            raw = oai.chat.completions.with_raw_response.create(model=model, messages=PROMPT, temperature=0,
                                                                 max_tokens=max_tokens)
            inside = sum(float(part.split("dur=")[1]) for part in raw.headers["server-timing"].split(",")) / 1000
            return raw.parse().usage.completion_tokens, inside

        def via_ollama() -> tuple[int, float]:
            r = oll.chat(model=model, messages=PROMPT, options=options)
            return r.eval_count, r.total_duration / 1e9

        # interleaved, run by run: the machine's speed drifts over a minute, and a reference measured
        # before the server started would take that drift for the server's cost
        paths = {"alone": in_process, "openai": via_openai, "ollama": via_ollama}
        for fn in paths.values():  # warm up: the server loads the model
            fn()
        times: dict[str, list[float]] = {name: [] for name in paths}
        overhead: dict[str, list[float]] = {name: [] for name in paths}
        for _ in range(runs):
            for name, fn in paths.items():
                time.sleep(SETTLE_S)  # the last run's idle llama.cpp threads stop spinning first
                start = time.perf_counter()
                n, inside = fn()
                took = time.perf_counter() - start
                tokens.add(n)
                times[name].append(took)
                overhead[name].append(took - inside)
        alone = times.pop("alone")
        unload_all()  # this process's model and its threads are not needed any more
        del backend
        if progress:
            progress()

        throughput = []
        for clients in concurrency:
            per_request: list[float] = []
            made = [0]
            lock = threading.Lock()

            def client() -> None:
                mine = ollama.Client(host=url, timeout=600)
                for _ in range(requests_per_client):
                    start = time.perf_counter()
                    n = mine.chat(model=model, messages=PROMPT, options=options).eval_count
                    with lock:
                        per_request.append(time.perf_counter() - start)
                        made[0] += n

            threads = [threading.Thread(target=client) for _ in range(clients)]
            start = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - start
            throughput.append(Throughput(clients, clients * requests_per_client, wall, made[0], made[0] / wall,
                                         latency(per_request)))
            if progress:
                progress()
        oai.close()
    return ServingBench(model, runs, max_tokens, max(tokens), latency(alone), latency(times["openai"]),
                        latency(times["ollama"]), latency(overhead["openai"]), latency(overhead["ollama"]), throughput)
