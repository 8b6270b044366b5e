"""Time to first token and decode speed: the course's llama.cpp backend beside raw llama-cpp-python.

Both run the same model file, the same prompt text (rendered once by the
model's chat template), the same settings (greedy, same max_tokens, same
threads and context) and are interleaved run by run, so a busy machine slows
both alike. A memory-bandwidth roofline gives the physical ceiling: each
generated token reads every weight once, so tokens/s <= bandwidth / model bytes.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass

from ..backends.base import normalize_messages
from ..backends.llama_cpp import LlamaCppBackend
from ..backends.types import ChatRequest
from ..runtimes.roofline import memory_bandwidth

PROMPT = "Explain in three sentences why small language models suit edge devices."


@dataclass
class RunFigures:
    ttft_s: float
    tokens: int
    tokens_per_s: float


@dataclass
class BenchResult:
    model: str
    runs: int
    max_tokens: int
    threads: int
    course: RunFigures  # medians
    raw: RunFigures
    ttft_overhead_pct: float
    rate_overhead_pct: float
    bandwidth_gb_s: float
    roofline_tokens_per_s: float
    model_bytes: int
    extra_bufts: bool  # llama.cpp's extra buffer types (off on CPUs whose AMX path crashes)

    def to_dict(self) -> dict:
        return asdict(self)


def _rate(tokens: int, first: float, end: float) -> float:
    return (tokens - 1) / (end - first) if tokens > 1 and end > first else 0.0


def raw_run(llm, prompt: str, max_tokens: int) -> RunFigures:
    """llama-cpp-python alone: stream a completion and time it."""
    llm.reset()
    start = time.perf_counter()
    first = None
    pieces = 0
    for chunk in llm.create_completion(prompt, max_tokens=max_tokens, temperature=0.0, stream=True):
        if not chunk["choices"][0]["text"]:
            continue  # the closing chunk carries only finish_reason
        if first is None:
            first = time.perf_counter()
        pieces += 1
    end = time.perf_counter()
    first = first or end
    return RunFigures(first - start, pieces, _rate(pieces, first, end))


def course_run(backend: LlamaCppBackend, messages: list[dict], max_tokens: int) -> RunFigures:
    response = backend.chat(messages, max_tokens=max_tokens, temperature=0.0)
    t = response.timings
    return RunFigures(t.ttft_s or 0.0, response.usage.completion_tokens, t.tokens_per_s or 0.0)


def _median(runs: list[RunFigures]) -> RunFigures:
    return RunFigures(statistics.median(r.ttft_s for r in runs), int(statistics.median(r.tokens for r in runs)),
                      statistics.median(r.tokens_per_s for r in runs))


def bench_generation(model: str = "smollm2-135m", *, runs: int = 3, max_tokens: int = 64,
                     progress=None) -> BenchResult:
    backend = LlamaCppBackend(model)
    messages = [{"role": "user", "content": PROMPT}]
    prompt = backend.render_prompt(ChatRequest(messages=normalize_messages(messages)))
    for _ in range(2):  # warm up: page the weights in and settle the caches, for both alike
        raw_run(backend.llm, prompt, 16)
        course_run(backend, messages, 16)
    course, raw = [], []
    for i in range(runs):
        raw.append(raw_run(backend.llm, prompt, max_tokens))
        course.append(course_run(backend, messages, max_tokens))
        if progress:
            progress(i + 1, runs)
    c, r = _median(course), _median(raw)
    bandwidth = memory_bandwidth() / 1e9
    size = backend.path.stat().st_size
    return BenchResult(
        model=model, runs=runs, max_tokens=max_tokens, threads=backend.n_threads, course=c, raw=r,
        ttft_overhead_pct=100 * (c.ttft_s - r.ttft_s) / r.ttft_s if r.ttft_s else 0.0,
        rate_overhead_pct=100 * (r.tokens_per_s - c.tokens_per_s) / r.tokens_per_s if r.tokens_per_s else 0.0,
        bandwidth_gb_s=bandwidth, roofline_tokens_per_s=bandwidth * 1e9 / size, model_bytes=size,
        extra_bufts=bool(backend.llm.model_params.use_extra_bufts),
    )


TOOL_PROMPT = "What time is it in Tokyo?"


@dataclass
class GrammarCost:
    """Decode rate of the same tool-calling request with and without the tool-call grammar."""

    model: str
    runs: int
    constrained_tokens_per_s: float
    parsed_tokens_per_s: float
    constrained_call: str
    parsed_call: str

    @property
    def slowdown(self) -> float:
        return self.parsed_tokens_per_s / self.constrained_tokens_per_s if self.constrained_tokens_per_s else 0.0

    def to_dict(self) -> dict:
        return asdict(self) | {"slowdown": self.slowdown}


def bench_tool_grammar(model: str = "smollm2-135m", *, runs: int = 3, max_tokens: int = 40) -> GrammarCost:
    """The same request (``get_current_time`` offered, ``tool_choice="auto"``) decoded under
    the tool-call grammar and unconstrained (parsed afterwards), interleaved run by run."""
    from ..tools.clock import get_current_time

    backends = {flag: LlamaCppBackend(model, constrain_tools=flag) for flag in (True, False)}
    messages = [{"role": "user", "content": TOOL_PROMPT}]
    rates: dict[bool, list[float]] = {True: [], False: []}
    calls: dict[bool, str] = {}
    for flag, backend in backends.items():  # warm up both paths (grammar compile, page-in)
        backend.chat(messages, tools=[get_current_time], max_tokens=8)
    for _ in range(runs):
        for flag, backend in backends.items():
            r = backend.chat(messages, tools=[get_current_time], max_tokens=max_tokens)
            rates[flag].append(r.timings.tokens_per_s or 0.0)
            calls[flag] = ", ".join(f"{c.name}({c.arguments})" for c in r.tool_calls) or repr(r.content)
    return GrammarCost(model, runs, statistics.median(rates[True]), statistics.median(rates[False]),
                       calls[True], calls[False])
