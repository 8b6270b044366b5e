"""``course serve``'s Prometheus metrics at ``GET /metrics``, with the official ``prometheus_client``.

What a production team scrapes (lesson 10 runs Debian's Prometheus against it):

- ``course_requests_total{face, model, status}``: every answered request, by protocol face (``openai``,
  ``ollama``), model (empty for a request that named none) and HTTP status;
- ``course_request_duration_seconds{face, model}``: from the request's first byte read to its last byte
  written, a histogram;
- ``course_time_to_first_token_seconds{face, model}``: from the request's arrival to its first generated
  chunk, as its client waits for it (queueing and a model load included), a histogram;
- ``course_generated_tokens_total{model}``: tokens the models generated;
- ``course_requests_in_flight`` and ``course_queue_depth`` (requests waiting for a model's turn), and
  ``course_models_loaded``, read when scraped;
- ``process_resident_memory_bytes`` and the other ``process_*`` series of the client's process collector.

Each server has a registry of its own, so two servers in one process (tests do that) never share counts.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector
from prometheus_client import generate_latest

LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
TTFT_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

_local = threading.local()  # the request this handler thread is answering: its start and its labels


def begin_request() -> None:
    """Called by the HTTP layer when a request starts (each request has a thread of its own)."""
    _local.start = time.perf_counter()
    _local.model = ""
    _local.first_token_seen = False


def request_model(model: str) -> None:
    """The model the current request asked for (set by the generation code, which knows it)."""
    _local.model = model


def _elapsed() -> float | None:
    start = getattr(_local, "start", None)
    return None if start is None else time.perf_counter() - start


class ServeMetrics:
    """The metrics of one ``course serve``."""

    def __init__(self, engine: Any = None):
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("course_requests", "Requests answered, by protocol face, model and HTTP status",
                                ["face", "model", "status"], registry=r)
        self.latency = Histogram("course_request_duration_seconds", "Time to answer a request, to its last byte",
                                 ["face", "model"], buckets=LATENCY_BUCKETS, registry=r)
        self.ttft = Histogram("course_time_to_first_token_seconds",
                              "From a request's arrival to its first generated chunk (queueing and loading included)",
                              ["face", "model"], buckets=TTFT_BUCKETS, registry=r)
        self.tokens = Counter("course_generated_tokens", "Tokens generated", ["model"], registry=r)
        self.in_flight = Gauge("course_requests_in_flight", "Requests being answered now", registry=r)
        self.queue = Gauge("course_queue_depth", "Requests waiting for a model's turn", registry=r)
        self.loaded = Gauge("course_models_loaded", "Models loaded in memory", registry=r)
        ProcessCollector(registry=r)  # process_resident_memory_bytes, process_cpu_seconds_total, ...
        if engine is not None:
            self.queue.set_function(lambda: engine.queue.waiting)
            self.loaded.set_function(lambda: len(engine.loaded()))
        self._face = threading.local()

    def request_started(self, face: str) -> None:
        begin_request()
        self._face.name = face
        self.in_flight.inc()

    def request_done(self, face: str, status: int | str) -> None:
        """The end of a request: its count and duration under the model it named."""
        self.in_flight.dec()
        seconds = _elapsed()
        model = getattr(_local, "model", "")
        self.requests.labels(face=face, model=model, status=str(status)).inc()
        if seconds is not None:
            self.latency.labels(face=face, model=model).observe(seconds)
        _local.start = None

    def chunk(self, model: str) -> None:
        """A chunk of a reply was generated: the first one gives the time to first token."""
        if getattr(_local, "first_token_seen", True):
            return
        _local.first_token_seen = True
        seconds = _elapsed()
        if seconds is not None:
            self.ttft.labels(face=getattr(self._face, "name", ""), model=model).observe(seconds)

    def generated(self, model: str, tokens: int) -> None:
        if tokens > 0:
            self.tokens.labels(model=model).inc(tokens)

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
