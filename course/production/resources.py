"""A deadline and a token budget for an agent's whole run, kept while the model writes (lesson 10).

The source's ``ResourceConfig(max_memory=..., timeout=...)`` is not a real
API; what it asks for is. A request gets a deadline (seconds from its start)
and a budget of generated tokens shared by every model call of the run. The
guard wraps the model backend, not the agent:

- before each call: no time or no tokens left means :class:`OverBudget`, and
  the call's ``max_tokens`` is cut to what is left;
- during a call: the time left goes to the backend as ``timeout_s``; when
  it passes, the backend stops generating between two tokens (also inside a
  tool call, which shows no text until it is complete) and the call fails
  with :class:`OverBudget`: a late answer is not an answer. The prompt's
  processing before the first token cannot be cut short, so a deadline can
  be passed by that much (``course bench limits`` measures it).

:func:`run_within` turns that into an :class:`~course.agent.AgentResult` with
``stop_reason="over_budget"`` and the reason, never a crash. Memory is the
other limit: :mod:`course.backends.memory_limit` refuses a model that would
not fit before it is loaded.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..agent import Agent, AgentError, AgentResult
from ..backends.types import BackendError, BackendTimeoutError, ChatResponse


class OverBudget(BackendError):
    """A model call refused or cut because the run's deadline or token budget ran out."""


@dataclass
class Budget:
    """One run's limits and what it has used; ``None`` means no limit of that kind."""

    deadline_s: float | None = None
    max_tokens: int | None = None
    clock: Callable[[], float] = time.monotonic
    started: float | None = None
    used_tokens: int = 0
    calls: int = 0
    events: list[str] = field(default_factory=list)

    def __post_init__(self):
        if self.deadline_s is not None and self.deadline_s <= 0:
            raise ValueError(f"deadline_s must be positive seconds, got {self.deadline_s!r}")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, got {self.max_tokens!r}")

    def start(self) -> Budget:
        self.started = self.clock()
        return self

    def elapsed(self) -> float:
        return 0.0 if self.started is None else self.clock() - self.started

    def seconds_left(self) -> float:
        return float("inf") if self.deadline_s is None else self.deadline_s - self.elapsed()

    def tokens_left(self) -> int | None:
        return None if self.max_tokens is None else self.max_tokens - self.used_tokens

    def admit(self, asked: int) -> int:
        """The ``max_tokens`` a call may have; :class:`OverBudget` when nothing is left."""
        if self.started is None:
            self.start()
        if self.seconds_left() <= 0:
            raise OverBudget(f"the deadline of {self.deadline_s:g} s passed after {self.calls} model call(s) and "
                             f"{self.used_tokens} tokens: the request was stopped; ask for less or allow more time")
        left = self.tokens_left()
        if left is not None and left <= 0:
            raise OverBudget(f"the budget of {self.max_tokens} generated tokens is spent after {self.calls} model "
                             "call(s): the request was stopped; ask for less or allow more tokens")
        return asked if left is None else min(asked, left)


class BudgetedBackend:
    """A chat backend whose calls share one :class:`Budget`; everything else is the wrapped backend's."""

    def __init__(self, backend: Any, budget: Budget):
        self.backend = backend
        self.budget = budget

    def __getattr__(self, name: str) -> Any:  # name, model, close ...: the wrapped backend's
        return getattr(self.backend, name)

    def chat(self, messages: Sequence[dict], **kwargs: Any) -> ChatResponse:
        budget = self.budget
        kwargs["max_tokens"] = budget.admit(int(kwargs.get("max_tokens", 256)))
        left = budget.seconds_left()
        if left != float("inf"):
            kwargs["timeout_s"] = left
        budget.calls += 1
        try:
            response = self.backend.stream(messages, **kwargs).collect()
        except BackendTimeoutError as exc:
            raise OverBudget(f"the deadline of {budget.deadline_s:g} s passed while the model was answering (call "
                             f"{budget.calls}): {exc}; ask for less or allow more time") from exc
        budget.used_tokens += response.usage.completion_tokens
        budget.events.append(f"call {budget.calls}: {response.usage.completion_tokens} tokens of "
                             f"{kwargs['max_tokens']} allowed, {budget.elapsed():.2f} s")
        return response


def run_within(agent: Agent, message: str, budget: Budget, **kwargs: Any) -> AgentResult:
    """Run ``agent`` on ``message`` within ``budget``: over it, a result with ``stop_reason="over_budget"``.

    The answer is then ``None`` and ``result.error`` says what ran out; the
    trace keeps the steps that finished. The agent's backend is restored after.
    """
    original = agent.backend
    agent.backend = BudgetedBackend(original, budget.start())
    try:
        return agent.run(message, **kwargs)
    except AgentError as exc:
        if not isinstance(exc.__cause__, OverBudget):
            raise
        return AgentResult(None, "over_budget", exc.trace, error=str(exc.__cause__))
    finally:
        agent.backend = original


__all__ = ["Budget", "BudgetedBackend", "OverBudget", "run_within"]
