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
    ### BEGIN SOLUTION
    if not 0 <= q <= 100:
        raise ValueError(f"q must be from 0 to 100, got {q}")
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values to take a percentile of")
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
    ### END SOLUTION


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
        ### BEGIN SOLUTION
        self.requests += 1
        if not ok:
            self.errors += 1
        self.latencies.append(seconds)
        ### END SOLUTION

    def summary(self) -> dict:
        """``{"requests", "errors", "error_rate", "p50_s", "p95_s"}``.

        ``error_rate`` is errors / requests (0.0 with no requests); the
        percentiles are over the window's latencies, None with no requests.
        """
        ### BEGIN SOLUTION
        lat = list(self.latencies)
        return {"requests": self.requests, "errors": self.errors,
                "error_rate": self.errors / self.requests if self.requests else 0.0,
                "p50_s": percentile(lat, 50) if lat else None,
                "p95_s": percentile(lat, 95) if lat else None}
        ### END SOLUTION
