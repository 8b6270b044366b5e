"""What the course measures about running models, in one place: percentiles, a window of recent requests,
resident memory, a stopwatch.

Used by the benchmarks (``course bench``), lesson 06's model manager and lesson 09's monitor, so that a p95
means the same thing everywhere: linear interpolation between the closest ranks, NumPy's default.
"""

from __future__ import annotations

import contextlib
import os
import resource
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation between the closest ranks."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    if not 0 <= q <= 100:
        raise ValueError(f"q must be between 0 and 100, got {q}")
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class RequestWindow:
    """The last ``size`` requests, each a duration in seconds and whether it succeeded."""

    size: int
    samples: deque = field(default_factory=deque)  # (seconds, ok)

    def add(self, seconds: float, ok: bool = True) -> None:
        self.samples.append((seconds, ok))
        while len(self.samples) > self.size:
            self.samples.popleft()

    @property
    def latencies(self) -> list[float]:
        return [seconds for seconds, _ in self.samples]

    def percentile(self, q: float) -> float | None:
        """The ``q``-th percentile of the window's latencies; None while it is empty."""
        return percentile(self.latencies, q) if self.samples else None

    def metrics(self) -> dict[str, float]:
        """requests, p50_latency_s, p95_latency_s, success_rate and error_rate over the window."""
        if not self.samples:
            return {"requests": 0}
        ok = sum(1 for _, good in self.samples if good) / len(self.samples)
        return {"requests": len(self.samples), "p50_latency_s": self.percentile(50),
                "p95_latency_s": self.percentile(95), "success_rate": ok, "error_rate": 1 - ok}


def resident_bytes() -> int | None:
    """This process's resident memory now (Linux ``/proc/self/statm``); None where it cannot be read."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def peak_resident_bytes() -> int:
    """The most this process has held resident so far (``getrusage``; Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@dataclass
class Stopwatch:
    """Seconds since it started (``with stopwatch() as watch: ...``, then ``watch.seconds``)."""

    start: float = field(default_factory=time.perf_counter)
    stop: float | None = None

    @property
    def seconds(self) -> float:
        return (self.stop if self.stop is not None else time.perf_counter()) - self.start


@contextlib.contextmanager
def stopwatch() -> Iterator[Stopwatch]:
    watch = Stopwatch()
    try:
        yield watch
    finally:
        watch.stop = time.perf_counter()


def trace_headers(headers: dict | None = None) -> dict:
    """``headers`` with the W3C trace context of the current span (``traceparent``) added, so that a server
    that reads it (course serve does) puts its spans in the caller's trace. Without an active span, nothing."""
    from opentelemetry import propagate

    headers = dict(headers or {})
    propagate.inject(headers)
    return headers


def trace_event_hooks() -> dict:
    """httpx's ``event_hooks`` that add the current trace context to every request."""
    def inject(request) -> None:
        for key, value in trace_headers().items():
            request.headers[key] = value

    return {"request": [inject]}


def traced_async_http_client(**kwargs):
    """The same for ``httpx.AsyncClient`` (``openai.AsyncOpenAI``, which the Agent Framework's clients use)."""
    import httpx

    hooks = trace_event_hooks()["request"]

    async def inject(request) -> None:
        for hook in hooks:
            hook(request)

    return httpx.AsyncClient(event_hooks={"request": [inject]}, **kwargs)


def traced_http_client(**kwargs):
    """An ``httpx.Client`` that sends the current trace context with every request (for ``openai.OpenAI``'s
    ``http_client=``, and so for the Agent Framework's OpenAI clients too)."""
    import httpx

    return httpx.Client(event_hooks=trace_event_hooks(), **kwargs)
