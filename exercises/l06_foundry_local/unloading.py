"""Exercise l06.2: an idle-unload policy with a memory budget.

A model server keeps models in memory between requests, and memory runs out.
Two rules free it: a model nobody has used for ``idle_s`` seconds is unloaded,
and when a new model would not fit in the budget, the least recently used
models make room. A model answering a request right now (``busy``) is never
unloaded, whatever the rules say.
"""


def plan_unloads(models: dict, *, now: float, idle_s: float, needed: int = 0,
                 budget: int | None = None) -> list:
    """The models to unload, in order, as ``(alias, reason)`` pairs.

    ``models`` maps an alias to ``{"size": bytes, "last_used": seconds, "busy": count}``.

    1. Every model with ``busy == 0`` and ``now - last_used >= idle_s``:
       reason ``"idle"``, the least recently used first.
    2. Then, if ``budget`` is not None and the models left plus ``needed`` bytes
       are more than ``budget``: the least recently used model that is not busy,
       reason ``"memory budget"``, one at a time until they fit; no more.

    Raises ``ValueError`` for a negative ``idle_s``, and when the models that
    are busy leave no room for ``needed`` bytes (say what does not fit).
    """
    # YOUR CODE HERE: exercise l06.2, An idle-unload policy
    raise NotImplementedError("exercise l06.2: read lessons/l06_foundry_local/index.md#an-idle-unload-policy, then run `course check l06`")
