"""The source's "production service", rewritten: a real queue with back-pressure and time limits.

The source's enterprise service accepts a request, puts it in a queue and
returns from ``_wait_for_result`` the placeholder string ``"Processed"``:
nothing waits for the model, and nothing stops the queue from growing
without bound. A service in front of a model server needs three things:

* **a bounded queue**: when it is full, a new request is refused at once
  (``ServiceBusy``, an HTTP 429 to the caller) instead of waiting behind work
  the server cannot finish in time. That is *back-pressure*;
* **a deadline per request**: a request that waited too long in the queue is
  dropped before it reaches the model (its caller has given up), and its
  caller gets ``RequestTimedOut``;
* **a fixed number of workers**, each holding one request in flight at the
  model server: vLLM batches what arrives together, so several workers keep
  its batch full, while the queue keeps the rest waiting in order.

:class:`AgentService` does this with threads and a ``queue.Queue``; ``send`` is
any function from a message to a reply (an ``openai`` client's call, an agent's
``run``), so it is tested with fakes and run against vLLM in the lesson.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field


class ServiceBusy(RuntimeError):
    """The queue is full: try again later (an HTTP 429 with Retry-After)."""


class RequestTimedOut(TimeoutError):
    """The request's deadline passed before it was answered."""


@dataclass
class _Job:
    message: str
    deadline: float
    future: Future = field(default_factory=Future)


@dataclass
class ServiceStats:
    accepted: int = 0
    rejected: int = 0
    answered: int = 0
    failed: int = 0
    expired: int = 0  # dropped from the queue after their deadline, never sent


class AgentService:
    """``workers`` threads answering queued messages with ``send``; at most ``max_queue`` waiting."""

    def __init__(self, send: Callable[[str], str], *, workers: int = 4, max_queue: int = 16,
                 timeout_s: float = 30.0, clock: Callable[[], float] = time.monotonic):
        if workers < 1 or max_queue < 1 or timeout_s <= 0:
            raise ValueError("need at least one worker, a queue of at least one, and a positive timeout")
        self.send, self.timeout_s, self.clock = send, timeout_s, clock
        self.jobs: queue.Queue[_Job | None] = queue.Queue(maxsize=max_queue)
        self.stats = ServiceStats()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._work, daemon=True, name=f"agent-worker-{i}")
                         for i in range(workers)]
        for t in self._threads:
            t.start()

    def submit(self, message: str) -> Future:
        """Queue ``message``; its future holds the reply. ``ServiceBusy`` at once when the queue is full."""
        job = _Job(message, self.clock() + self.timeout_s)
        try:
            self.jobs.put_nowait(job)
        except queue.Full:
            with self._lock:
                self.stats.rejected += 1
            raise ServiceBusy(f"{self.jobs.maxsize} requests are already waiting: try again later") from None
        with self._lock:
            self.stats.accepted += 1
        return job.future

    def ask(self, message: str) -> str:
        """Submit and wait for the reply, at most the service's timeout."""
        future = self.submit(message)
        try:
            return future.result(timeout=self.timeout_s)
        except TimeoutError:
            raise RequestTimedOut(f"no reply within {self.timeout_s:g} s") from None

    def _work(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            if self.clock() > job.deadline:  # its caller has given up: do not spend the model on it
                with self._lock:
                    self.stats.expired += 1
                job.future.set_exception(RequestTimedOut("the request waited past its deadline in the queue"))
                continue
            try:
                reply = self.send(job.message)
            except Exception as exc:  # noqa: BLE001 - the caller gets the error through its future
                with self._lock:
                    self.stats.failed += 1
                job.future.set_exception(exc)
            else:
                with self._lock:
                    self.stats.answered += 1
                job.future.set_result(reply)

    def close(self) -> None:
        """Let the workers finish what they hold, then stop them."""
        for _ in self._threads:
            self.jobs.put(None)
        for t in self._threads:
            t.join()

    def __enter__(self) -> AgentService:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --- several models on one machine ------------------------------------------------------------------------

@dataclass(frozen=True)
class ServerPlan:
    """One vLLM server: its weights, its KV cache space, and the process overhead around them (bytes)."""

    name: str
    weights: float
    kv_cache: float
    overhead: float


def memory_plan(servers: list[ServerPlan], total: float, reserve: float = 0.0) -> dict:
    """Whether the servers fit in ``total`` bytes with ``reserve`` kept free, and by how much.

    The source gives three GPU servers ``gpu_memory_utilization`` 0.3, 0.5 and
    0.7. Each fraction is of the *whole* device, so together they ask for
    150 % of it, and the third server fails to start. Here every server's share
    is added up in bytes, as it must be.
    """
    need = sum(s.weights + s.kv_cache + s.overhead for s in servers)
    return {"need": need, "available": total - reserve, "fits": need <= total - reserve,
            "servers": [{"name": s.name, "bytes": s.weights + s.kv_cache + s.overhead} for s in servers]}


def fractions_fit(fractions: list[float]) -> bool:
    """Whether vLLM servers sharing one GPU can each have the ``gpu_memory_utilization`` given (sum <= 1)."""
    return sum(fractions) <= 1.0


__all__ = ["AgentService", "RequestTimedOut", "ServerPlan", "ServiceBusy", "ServiceStats", "fractions_fit",
           "memory_plan"]
