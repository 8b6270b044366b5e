"""Exercise l06.4: a metrics collector with percentiles.

The source calls ``manager.get_average_latency()``, which no SDK has, and an
average hides what users feel: one request in twenty taking ten seconds barely
moves the mean. Keep every request's latency over a window and report the
median (p50) and the 95th percentile (p95), with the error rate beside them.
"""

from collections import deque


def percentile(values, q: float) -> float:
    """The ``q``-th percentile (0 to 100) of ``values``, by linear interpolation between the closest ranks.

    Sort the values; the rank is ``(n - 1) * q / 100``; interpolate between the
    values at the ranks on either side (NumPy's default method). Raises
    ``ValueError`` for no values or a ``q`` outside 0 to 100.
    """
    # YOUR CODE HERE: exercise l06.4, Metrics with percentiles
    raise NotImplementedError("exercise l06.4: read lessons/l06_foundry_local/index.md#metrics-with-percentiles, then run `course check l06`")


class Metrics:
    """Requests and errors counted since the start; latencies kept for the last ``window`` requests."""

    def __init__(self, window: int = 100):
        if window < 1:
            raise ValueError(f"window must be at least 1, got {window}")
        self.requests = 0
        self.errors = 0
        self.latencies = deque(maxlen=window)

    def record(self, seconds: float, ok: bool = True) -> None:
        """One request that took ``seconds``; ``ok=False`` when it failed (it still counts, and its time too)."""
        # YOUR CODE HERE: exercise l06.4, Metrics with percentiles
        raise NotImplementedError("exercise l06.4: read lessons/l06_foundry_local/index.md#metrics-with-percentiles, then run `course check l06`")

    def summary(self) -> dict:
        """``{"requests", "errors", "error_rate", "p50_s", "p95_s"}``.

        ``error_rate`` is errors / requests (0.0 with no requests); the
        percentiles are over the window's latencies, None with no requests.
        """
        # YOUR CODE HERE: exercise l06.4, Metrics with percentiles
        raise NotImplementedError("exercise l06.4: read lessons/l06_foundry_local/index.md#metrics-with-percentiles, then run `course check l06`")
