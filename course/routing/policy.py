"""When to escalate from the local model to the cloud: a threshold, a budget, and the network.

The policy sees three things: how confident the local side is (a probability
from :mod:`course.routing.signals`), whether the cloud can be reached, and how
much of the budget is left. It escalates a task only when all of these hold:

- the local confidence is below the threshold;
- the cloud is reachable (offline, the local answer is the only answer);
- the task's estimated cloud cost fits in what is left of the budget.

Otherwise the task stays local, and the decision says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Route = Literal["local", "cloud"]


@dataclass(frozen=True)
class Decision:
    route: Route
    reason: str  # "confident", "escalate", "offline", "over budget"


@dataclass
class EscalationPolicy:
    threshold: float = 0.7  # escalate when the local confidence is below this
    budget: float = 1.00  # dollars for the cloud, for the whole run
    spent: float = 0.0
    log: list[Decision] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"threshold must be a probability from 0 to 1, got {self.threshold}")
        if self.budget < 0:
            raise ValueError(f"budget must not be negative, got {self.budget}")

    @property
    def left(self) -> float:
        return self.budget - self.spent

    def decide(self, confidence: float, *, online: bool, estimated_cost: float) -> Decision:
        """Local or cloud for one task; does not spend (call :meth:`charge` after a cloud call)."""
        if not 0.0 <= confidence <= 1.0:
            raise ValueError(f"confidence must be a probability from 0 to 1, got {confidence}")
        if confidence >= self.threshold:
            decision = Decision("local", "confident")
        elif not online:
            decision = Decision("local", "offline")
        elif estimated_cost > self.left:
            decision = Decision("local", "over budget")
        else:
            decision = Decision("cloud", "escalate")
        self.log.append(decision)
        return decision

    def charge(self, cost: float) -> None:
        """Record what a cloud call really cost (it may differ from the estimate)."""
        if cost < 0:
            raise ValueError("a cost cannot be negative")
        self.spent += cost
