"""A choice among a few labels, read from a model's probabilities instead of sampled.

The model is asked to answer with one of the labels; the backend reports the
log-probability of each label as the start of the reply
(:meth:`course.backends.LlamaCppBackend.label_logprobs`), and :func:`normalise`
turns them into probabilities over the labels. Lesson 05's router and lesson
09's intent router both choose this way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Classification:
    label: str
    probabilities: dict[str, float]

    @property
    def confidence(self) -> float:
        return self.probabilities[self.label]


def normalise(logprobs: dict[str, float]) -> dict[str, float]:
    """Probabilities over the labels from their log-probabilities (a softmax, stable for very negative values)."""
    if not logprobs:
        raise ValueError("no labels")
    top = max(logprobs.values())
    weights = {k: math.exp(v - top) for k, v in logprobs.items()}
    total = sum(weights.values())
    return {k: w / total for k, w in weights.items()}


def classify(backend, instruction: str, text: str, labels: list[str]) -> Classification:
    """The label the model finds most likely for ``text`` under ``instruction``, with the probabilities."""
    messages = [{"role": "system", "content": instruction}, {"role": "user", "content": text}]
    probs = normalise(backend.label_logprobs(messages, labels))
    return Classification(max(probs, key=probs.get), probs)
