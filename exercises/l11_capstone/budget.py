"""Exercise l11.3: a latency budget from measured percentiles.

A kiosk must answer within a budget: a shopper waits 3 seconds at most, for
95 % of questions. The time of an answer is the time to its first token plus
one step per further token. Both were measured on the device (lesson 00's
benchmark): many times to first token, many seconds per token. The question:
how long may an answer be (``max_tokens``) so that the budget holds?

Percentiles here are by linear interpolation between the closest ranks
(numpy's default): for ``q`` in 0-100 and the sorted values ``v`` of length
``n``, the rank is ``(n - 1) * q / 100``; between the two values around it,
interpolate.
"""


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile of ``values`` (not empty; ``q`` from 0 to 100), interpolated."""
    # YOUR CODE HERE: exercise l11.3, A latency budget from measured percentiles
    raise NotImplementedError("exercise l11.3: read lessons/l11_capstone/index.md#a-latency-budget-from-measured-percentiles, then run `course check l11`")


def max_tokens_within(ttft_s: list[float], per_token_s: list[float], budget_s: float, q: float = 95) -> int:
    """The largest ``max_tokens`` (at least 1) whose answer time stays within ``budget_s`` at percentile ``q``.

    The answer time of ``n`` tokens is taken as ``percentile(ttft_s, q) + (n - 1) * percentile(per_token_s, q)``
    (a cautious sum: both at their ``q``-th percentile). Raise ``ValueError`` when even one token does not fit
    the budget, saying by how much it is over.
    """
    # YOUR CODE HERE: exercise l11.3, A latency budget from measured percentiles
    raise NotImplementedError("exercise l11.3: read lessons/l11_capstone/index.md#a-latency-budget-from-measured-percentiles, then run `course check l11`")
