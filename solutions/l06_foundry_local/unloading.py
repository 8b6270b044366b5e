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
    ### BEGIN SOLUTION
    if idle_s < 0:
        raise ValueError(f"idle_s must be 0 or more, got {idle_s}")
    by_age = sorted(models, key=lambda a: models[a]["last_used"])
    plan = [(a, "idle") for a in by_age
            if models[a]["busy"] == 0 and now - models[a]["last_used"] >= idle_s]
    if budget is None:
        return plan
    gone = {a for a, _ in plan}
    resident = sum(models[a]["size"] for a in models if a not in gone)
    for alias in by_age:
        if resident + needed <= budget:
            break
        if alias in gone or models[alias]["busy"]:
            continue
        plan.append((alias, "memory budget"))
        resident -= models[alias]["size"]
    if resident + needed > budget:
        raise ValueError(f"{needed} bytes do not fit in a budget of {budget}: models in use hold {resident}")
    return plan
    ### END SOLUTION
