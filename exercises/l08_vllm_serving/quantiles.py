"""Exercise l08.5: percentiles from a Prometheus histogram.

vLLM's ``/metrics`` reports time to first token as a histogram: cumulative
buckets, each the count of requests at most that many seconds. The exact
times are gone; a percentile is estimated the way Prometheus'
``histogram_quantile()`` does it.
"""

import math
from collections.abc import Sequence


def histogram_quantile(q: float, buckets: Sequence[tuple[float, float]]) -> float:
    """The ``q``-quantile (0 to 1) of cumulative ``(upper bound, count)`` buckets ending with ``+inf``.

    rank = q * total count. Find the first bucket whose count is at least the
    rank. If it is the ``+inf`` bucket, return the largest finite upper bound.
    Otherwise interpolate linearly inside it: from its lower bound (the
    previous upper bound, or 0 for the first bucket) to its upper bound, by
    how far the rank lies between the previous bucket's count and its own.
    No observations: return ``math.nan``. Raise ``ValueError`` for ``q``
    outside 0 to 1 or buckets that do not end with ``+inf``.
    """
    # YOUR CODE HERE: exercise l08.5, Percentiles from a histogram
    raise NotImplementedError("exercise l08.5: read lessons/l08_vllm_serving/index.md#percentiles-from-a-histogram, then run `course check l08`")
