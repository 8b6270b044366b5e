"""Exercise l06.3: a health check that tells "not loaded" from "failing".

The source calls ``manager.health_check()``, which no Foundry Local SDK has.
A useful health check distinguishes states that need different actions: a
model that was never prepared needs preparing, a model that is not loaded is
fine (it loads on first use, and probing it would load it), and only a loaded
model that answers a probe badly is failing. A slow answer is a warning, not a
failure.
"""

import time


def check_health(*, prepared: bool, loaded: bool, probe, slow_s: float = 5.0, clock=time.perf_counter) -> dict:
    """``{"state": ..., "probe_s": ..., "detail": ...}`` for one model.

    ``probe`` is a function of no arguments that sends a tiny request to the
    loaded model and returns the reply's text. The states, checked in order:
    ``"not prepared"``, ``"not loaded"`` (neither calls the probe; ``probe_s``
    is None), then with the probe timed by ``clock``: ``"failing"`` when it
    raises (``detail`` is ``"TypeName: message"``) or returns only whitespace,
    ``"slow"`` when it took more than ``slow_s`` seconds, else ``"healthy"``.
    """
    # YOUR CODE HERE: exercise l06.3, Not loaded is not failing
    raise NotImplementedError("exercise l06.3: read lessons/l06_foundry_local/index.md#not-loaded-is-not-failing, then run `course check l06`")
