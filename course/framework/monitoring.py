"""Metrics per agent and alert rules that act.

:class:`Monitor` keeps, per agent, a window of the last ``window`` requests
(latency and success). An :class:`AlertRule` compares one metric with a limit
(``p95_latency_s`` above 4, ``success_rate`` below 0.9 ...) once enough
requests are in the window, and runs its action when the rule *starts* to hold
(not again on every request while it keeps holding; again after it has
cleared). Actions are plain callables, for example switching an agent to
another model (:func:`switch_backend`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..observability import RequestWindow

METRICS = ("p50_latency_s", "p95_latency_s", "success_rate", "error_rate", "requests")


@dataclass
class AlertRule:
    name: str
    metric: str
    above: float | None = None
    below: float | None = None
    action: Callable[[str, dict], None] | None = None  # called with (agent, metrics)
    min_requests: int = 5

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise ValueError(f"unknown metric {self.metric!r}; choose from {', '.join(METRICS)}")
        if (self.above is None) == (self.below is None):
            raise ValueError(f"alert {self.name!r}: give exactly one of above or below")

    def holds(self, metrics: dict[str, float]) -> bool:
        if metrics.get("requests", 0) < self.min_requests or self.metric not in metrics:
            return False
        value = metrics[self.metric]
        return value > self.above if self.above is not None else value < self.below


@dataclass(frozen=True)
class Alert:
    rule: str
    agent: str
    metric: str
    value: float
    time: float


class Monitor:
    """Observe requests, compute metrics, fire alerts (once per episode)."""

    def __init__(self, rules: list[AlertRule] = (), *, window: int = 50, clock=time.time):
        self.rules = list(rules)
        self.window = window
        self.windows: dict[str, RequestWindow] = {}
        self.active: set[tuple[str, str]] = set()  # (rule, agent) currently holding
        self.alerts: list[Alert] = []
        self._clock = clock

    def observe(self, agent: str, seconds: float, ok: bool) -> list[Alert]:
        """Record one request; returns the alerts this request started."""
        if seconds < 0 or math.isnan(seconds):
            raise ValueError(f"a latency cannot be {seconds}")
        self.windows.setdefault(agent, RequestWindow(self.window)).add(seconds, ok)
        metrics = self.metrics(agent)
        fired = []
        for rule in self.rules:
            key = (rule.name, agent)
            if rule.holds(metrics):
                if key not in self.active:
                    self.active.add(key)
                    alert = Alert(rule.name, agent, rule.metric, metrics[rule.metric], self._clock())
                    fired.append(alert)
                    if rule.action:
                        rule.action(agent, metrics)
            else:
                self.active.discard(key)
        self.alerts += fired
        return fired

    def metrics(self, agent: str) -> dict[str, float]:
        return self.windows[agent].metrics() if agent in self.windows else {"requests": 0}

    def timed(self, agent: str, run: Callable[[], object], *, ok: Callable[[object], bool] = lambda r: True):
        """Run ``run()`` and observe it: an exception counts as a failure (and is raised again)."""
        start = time.perf_counter()
        try:
            result = run()
        except Exception:
            self.observe(agent, time.perf_counter() - start, False)
            raise
        self.observe(agent, time.perf_counter() - start, ok(result))
        return result


def switch_backend(agent, backend, *, log: list | None = None) -> Callable[[str, dict], None]:
    """An alert action: move ``agent`` (anything with a ``backend``) to another model."""
    def action(name: str, metrics: dict) -> None:
        old = getattr(agent.backend, "model", "?")
        agent.backend = backend
        if log is not None:
            log.append(f"{name}: switched from {old} to {getattr(backend, 'model', '?')} "
                       f"(p95 {metrics.get('p95_latency_s', float('nan')):.2f} s)")
    return action
