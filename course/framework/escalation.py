"""Edge first, cloud when it helps, and never stuck when the cloud is not there.

:class:`EdgeCloudBackend` is a chat backend made of two: every request goes
through a rule (``escalate(messages) -> bool``; lesson 05's confidence signals
are one choice); requests it escalates go to the cloud with a deadline. A cloud
that errors or misses the deadline makes the request fall back to the local
model, with a notice in :attr:`EdgeCloudBackend.log`. After ``trip_after``
consecutive cloud failures a circuit breaker stops trying the cloud for
``cooldown_s`` seconds (degraded mode: local only, no time lost on a dead
endpoint), then lets one request through to test it again.

Because it is a backend, any agent runs on it unchanged, and a
:class:`~course.framework.sessions.PersistentAgent` on top keeps every turn,
whichever model answered it.
"""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..backends.base import ChatBackend
from ..backends.types import BackendError, ChatRequest, ChatResponse, Delta


@dataclass(frozen=True)
class RouteRecord:
    route: str  # local | cloud
    reason: str  # local rule | escalated | cloud failed | cloud timed out | circuit open
    notice: str | None = None
    seconds: float = 0.0


class EdgeCloudBackend(ChatBackend):
    """Local by default, the cloud for what ``escalate`` picks, the local model whenever the cloud fails."""

    name = "edge-cloud"

    def __init__(self, local: ChatBackend, cloud: ChatBackend, *, escalate: Callable[[list[dict]], bool],
                 timeout_s: float = 10.0, trip_after: int = 3, cooldown_s: float = 30.0, clock=time.monotonic):
        super().__init__()
        if timeout_s <= 0 or trip_after < 1 or cooldown_s < 0:
            raise ValueError("timeout_s must be positive, trip_after at least 1, cooldown_s not negative")
        self.local, self.cloud = local, cloud
        self.model = f"{local.model}+{cloud.model}"
        self.escalate = escalate
        self.timeout_s, self.trip_after, self.cooldown_s = timeout_s, trip_after, cooldown_s
        self._now = clock
        self.failures = 0  # consecutive
        self.open_until: float | None = None
        self.log: list[RouteRecord] = []
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="cloud-call")

    @property
    def degraded(self) -> bool:
        """True while the circuit is open: the cloud is not tried."""
        return self.open_until is not None and self._now() < self.open_until

    def count_tokens(self, text: str) -> int:
        return self.local.count_tokens(text)

    def _ask(self, backend: ChatBackend, request: ChatRequest) -> ChatResponse:
        return backend.chat(request.messages, tools=request.tools or None, tool_choice=request.tool_choice,
                            response_format=request.response_format, temperature=request.temperature,
                            seed=request.seed, max_tokens=request.max_tokens)

    def _cloud(self, request: ChatRequest) -> tuple[ChatResponse | None, str, str | None]:
        if self.degraded:
            return None, "circuit open", (f"the cloud failed {self.failures} times in a row; local only until "
                                          f"the cool-down ends")
        future = self._pool.submit(self._ask, self.cloud, request)
        try:
            reply = future.result(timeout=self.timeout_s)
        except concurrent.futures.TimeoutError:
            reason, notice = "cloud timed out", f"the cloud did not answer within {self.timeout_s:g} s"
        except BackendError as exc:
            reason, notice = "cloud failed", f"the cloud failed: {exc}"
        else:
            self.failures, self.open_until = 0, None
            return reply, "escalated", None
        self.failures += 1
        if self.failures >= self.trip_after:
            self.open_until = self._now() + self.cooldown_s
        return None, reason, notice + "; the local model answered instead"

    def _generate(self, request: ChatRequest) -> Iterator[Delta]:
        start = self._now()
        reply, reason, notice = None, "local rule", None
        if self.escalate(request.messages):
            reply, reason, notice = self._cloud(request)
        route = "cloud" if reply is not None else "local"
        if reply is None:
            reply = self._ask(self.local, request)
        self.log.append(RouteRecord(route, reason, notice, self._now() - start))
        if reply.content:
            yield Delta(content=reply.content, tokens=reply.usage.completion_tokens)
        yield Delta(tool_calls=list(reply.tool_calls), finish_reason=reply.finish_reason, usage=reply.usage)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
