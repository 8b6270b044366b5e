"""Lesson 05: SLM first, LLM when needed. Signals, an escalation policy, costs and the router.

- :mod:`.signals`: confidence from label probabilities (before answering) or from the
  answer's own token probabilities (after);
- :mod:`.policy`: escalate below a threshold, within a budget, never offline;
- :mod:`.cost`: tokens and money, every price an assumption you can replace.
"""

from .cost import CloudPrice, CostModel, LocalPrice
from .policy import Decision, EscalationPolicy
from .signals import COMPLEXITY_INSTRUCTION, Classification, answer_confidence, classify, normalise

__all__ = ["COMPLEXITY_INSTRUCTION", "Classification", "CloudPrice", "CostModel", "Decision", "EscalationPolicy",
           "LocalPrice", "answer_confidence", "classify", "normalise"]
