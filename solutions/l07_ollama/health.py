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
    ### BEGIN SOLUTION
    error = None
    for attempt in range(retries + 1):
        if attempt:
            sleep(backoff_s * 2 ** (attempt - 1))
        try:
            r = httpx.get(host.rstrip("/") + "/api/version", timeout=timeout_s)
        except httpx.TimeoutException:
            error = f"no answer within {timeout_s} s"
            continue
        except httpx.TransportError as exc:
            error = f"cannot connect: {exc}"
            continue
        if r.status_code == 200:
            try:
                version = r.json()["version"]
            except (ValueError, KeyError, TypeError):
                return {"healthy": False, "version": None, "attempts": attempt + 1,
                        "error": "the answer is not Ollama's version object"}
            return {"healthy": True, "version": version, "attempts": attempt + 1, "error": None}
        error = f"HTTP {r.status_code}"
        if r.status_code < 500:
            return {"healthy": False, "version": None, "attempts": attempt + 1, "error": error}
    return {"healthy": False, "version": None, "attempts": retries + 1, "error": error}
    ### END SOLUTION
