"""Confidence signals from the local side, two kinds.

**Before answering** (a router): the small model is asked to answer with one of
a few labels; instead of sampling, the course reads the probability llama.cpp
assigns to each label as the start of the reply
(:meth:`course.backends.LlamaCppBackend.label_logprobs`) and normalises over the
labels. The largest share is the model's confidence.

**After answering** (a cascade): the local model answers greedily and llama.cpp
reports the log-probability of every token it chose
(``LlamaCppBackend.record_logprobs``); their mean, as a probability, is how sure
the model was of its own answer (:func:`answer_confidence`).
"""

from __future__ import annotations

import math

# The label choice is the shared layer's (lesson 09's intent router uses it too); lesson 05 teaches it.
from ..backends.labels import Classification, classify, normalise  # noqa: F401


def answer_confidence(logprobs: list[float]) -> float:
    """The geometric mean of the chosen tokens' probabilities: ``exp(mean(logprobs))``, from 0 to 1.

    One unsure token in a short answer weighs more than in a long one: this is
    the per-token average, not the probability of the whole answer (which would
    punish long answers for their length)."""
    if not logprobs:
        raise ValueError("no token log-probabilities: was the reply greedy, unconstrained and recorded?")
    if any(not math.isfinite(x) or x > 0 for x in logprobs):
        raise ValueError("log-probabilities must be finite and at most 0")
    return math.exp(sum(logprobs) / len(logprobs))


COMPLEXITY_INSTRUCTION = (
    "Classify the user's request. Answer with one word: simple (a routine task a small model can do: "
    "a lookup, a conversion, a yes/no fact, a short extraction, a tool call) or complex (multi-step reasoning, "
    "long writing, planning, analysis)."
)
