"""Many agents, one front door: intent routing, fallback, and hierarchical delegation.

- :class:`IntentRouter`: a small model classifies the request, constrained to
  the agents' names (the label probabilities of lesson 05, so it cannot answer
  with a name that does not exist); below a confidence threshold the request
  goes to the fallback agent.
- :class:`Orchestrator`: sends the request to the chosen specialist; when the
  specialist fails (its backend errors, it raises, or it runs out of steps) the
  fallback agent answers instead and the result says so.
- :class:`Supervisor`: hierarchical delegation. A manager agent gets one tool
  per worker (``ask_<worker>``); calling it runs the worker agent and returns
  its answer as the tool's result.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..agent.loop import Agent
from ..backends.labels import classify
from ..tools import Tool

NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class Runs(Protocol):
    def run(self, user_message: str, *, history: Any = ()) -> Any: ...


@dataclass(frozen=True)
class Routing:
    agent: str
    confidence: float
    probabilities: dict[str, float]
    fell_back: bool


class IntentRouter:
    """Pick the agent for a request: an SLM classifier over the agents' names, with a fallback."""

    def __init__(self, backend, agents: Mapping[str, str], *, fallback: str, threshold: float = 0.5):
        if not agents:
            raise ValueError("an intent router needs at least one agent")
        bad = [n for n in agents if not NAME.match(n)]
        if bad:
            raise ValueError(f"agent names must be lower-case words like 'billing' or 'tech_support', got {bad}")
        if fallback not in agents:
            raise ValueError(f"the fallback {fallback!r} must be one of the agents {sorted(agents)}")
        self.backend, self.agents, self.fallback, self.threshold = backend, dict(agents), fallback, threshold
        lines = "\n".join(f"- {name}: {description}" for name, description in self.agents.items())
        self.instruction = ("Choose the agent that should handle the user's request. Answer with the agent's "
                            f"name only.\n\nAgents:\n{lines}")

    def route(self, text: str) -> Routing:
        got = classify(self.backend, self.instruction, text, list(self.agents))
        if got.confidence < self.threshold:
            return Routing(self.fallback, got.confidence, got.probabilities, True)
        return Routing(got.label, got.confidence, got.probabilities, False)


@dataclass
class Handled:
    agent: str  # who answered
    answer: str | None
    routing: Routing
    notice: str | None = None  # set when the fallback answered for a failed specialist
    errors: list[str] = field(default_factory=list)


class Orchestrator:
    """Route a request to a specialist; fall back when it fails."""

    def __init__(self, router: IntentRouter, specialists: Mapping[str, Runs]):
        missing = sorted(set(router.agents) - set(specialists))
        if missing:
            raise ValueError(f"the router names agents with no specialist: {missing}")
        self.router = router
        self.specialists = dict(specialists)

    def handle(self, text: str, *, history: Any = ()) -> Handled:
        routing = self.router.route(text)
        errors = []
        for name in dict.fromkeys([routing.agent, self.router.fallback]):
            try:
                result = self.specialists[name].run(text, history=history)
            except Exception as exc:  # a specialist's failure must not lose the request
                errors.append(f"{name}: {type(exc).__name__}: {exc}")
                continue
            if getattr(result, "answer", None) is None:
                errors.append(f"{name}: stopped without an answer ({getattr(result, 'stop_reason', '?')})")
                continue
            notice = None if name == routing.agent else f"{routing.agent} failed ({errors[0]}); {name} answered"
            return Handled(name, result.answer, routing, notice, errors)
        return Handled(routing.agent, None, routing, "no agent could answer: " + "; ".join(errors), errors)


class Supervisor:
    """A manager agent that delegates to worker agents through one tool per worker."""

    def __init__(self, backend, workers: Mapping[str, tuple[str, Runs]], *, instructions: str | None = None,
                 max_steps: int = 4, **options: Any):
        self.workers = dict(workers)
        self.calls: list[tuple[str, str, str | None]] = []  # (worker, request, answer)
        tools = [self._delegate_tool(name, description, worker) for name, (description, worker) in workers.items()]
        self.manager = Agent(backend, tools, max_steps=max_steps, instructions=instructions or (
            "You are a manager. Delegate each part of the request to the right worker with its tool, "
            "then answer the user from the workers' answers."), **options)

    def _delegate_tool(self, name: str, description: str, worker: Runs) -> Tool:
        def delegate(request: str) -> str:
            result = worker.run(request)
            self.calls.append((name, request, result.answer))
            if result.answer is None:
                raise RuntimeError(f"the {name} worker stopped without an answer")
            return result.answer

        delegate.__doc__ = f"Ask the {name} worker: {description}\n\nArgs:\n    request: what to ask the worker."
        return Tool(delegate, name=f"ask_{name}")

    def run(self, user_message: str, *, history: Any = ()):
        return self.manager.run(user_message, history=history)
