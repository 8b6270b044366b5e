"""Exercise l07.1: a health check that retries, and knows when not to.

``GET /api/version`` is the cheapest request an Ollama server answers: it loads
no model. A server that is starting, busy restarting or briefly overloaded
refuses the connection, times out or answers 5xx; those are worth retrying,
after a pause that doubles each time (0.5 s, 1 s, 2 s ...). A 4xx is the
client's own mistake (a wrong path, a missing API key): retrying cannot fix it.
"""

import time

import httpx


def check_health(host: str, *, retries: int = 3, backoff_s: float = 0.5, timeout_s: float = 2.0,
                 sleep=time.sleep) -> dict:
    """Ask ``host`` for ``/api/version`` up to ``retries + 1`` times.

    Returns ``{"healthy": bool, "version": str | None, "attempts": int, "error": str | None}``:
    healthy with the server's version after a 200; otherwise the last error, in words.
    Pause ``backoff_s * 2**k`` seconds (through ``sleep``) before retry ``k + 1``.
    """
    # YOUR CODE HERE: exercise l07.1, A health check that retries
    raise NotImplementedError("exercise l07.1: read lessons/l07_ollama/index.md#a-health-check-that-retries, then run `course check l07`")
