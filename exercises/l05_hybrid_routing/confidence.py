"""Exercise l05.2: confidence from label probabilities.

Ask a model to answer with one of a few labels, and instead of sampling an
answer read how likely it finds each label: ``backend.label_logprobs(messages,
labels)`` gives ``log P(the reply starts with label)``. Normalised over the
labels, the largest share is the model's choice and its confidence.

Log-probabilities of whole labels can be very negative (-1000 is possible for a
label the model finds absurd): ``math.exp(-1000)`` is 0.0 in floating point, so
the normalisation must not start by exponentiating them as they are.
"""

import math


def normalise(logprobs: dict[str, float]) -> dict[str, float]:
    """Probabilities over the labels, in the same order, summing to 1.

    Raises ``ValueError`` for an empty dict.
    """
    # YOUR CODE HERE: exercise l05.2, Confidence from label probabilities
    raise NotImplementedError("exercise l05.2: read lessons/l05_hybrid_routing/index.md#confidence-from-label-probabilities, then run `course check l05`")


def classify(backend, instruction: str, text: str, labels: list[str]) -> tuple[str, dict[str, float]]:
    """The most likely label for ``text`` under ``instruction`` (a system message), with the probabilities."""
    # YOUR CODE HERE: exercise l05.2, Confidence from label probabilities
    raise NotImplementedError("exercise l05.2: read lessons/l05_hybrid_routing/index.md#confidence-from-label-probabilities, then run `course check l05`")
