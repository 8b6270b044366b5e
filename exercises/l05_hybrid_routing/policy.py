"""Exercise l05.1: an escalation policy.

A hybrid agent sends a task to the cloud only when three things hold: the local
side is unsure (its confidence is below the threshold), the cloud can be
reached, and the task's estimated cost fits in what is left of the budget.
Everything else stays local, and the decision says why, so that a log of
decisions explains the bill.
"""

import math


def decide(confidence: float, *, threshold: float, online: bool, estimated_cost: float,
           budget_left: float) -> tuple[str, str]:
    """``("local" | "cloud", reason)`` for one task.

    Checked in this order: ``"confident"`` (confidence at or above the threshold:
    local), ``"offline"`` (local), ``"over budget"`` (the estimate is more than
    what is left: local), otherwise ``"escalate"`` (cloud).
    Raises ``ValueError`` for a confidence that is not a probability (outside
    0 to 1, or NaN).
    """
    # YOUR CODE HERE: exercise l05.1, An escalation policy
    raise NotImplementedError("exercise l05.1: read lessons/l05_hybrid_routing/index.md#an-escalation-policy, then run `course check l05`")
