"""The life of a loaded model, as every part of the course that keeps models loaded sees it.

``course serve``'s engine (lesson 07) and lesson 06's model manager both load
models on demand, keep them while they are used, and unload the idle ones,
least recently used first, when a new model would not fit a memory budget.
The decision of which to unload is :func:`plan_evictions`, here once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def plan_evictions(loaded: list, need: int, budget: int, *, size_of: Callable[[Any], int],
                   busy: Callable[[Any], bool], last_used: Callable[[Any], float]) -> tuple[list, bool]:
    """Which loaded models to unload so that ``need`` more bytes fit in ``budget``: idle ones only, least
    recently used first. Returns (those models, whether ``need`` then fits)."""
    held = sum(size_of(m) for m in loaded)
    victims = []
    for model in sorted((m for m in loaded if not busy(m)), key=last_used):
        if held + need <= budget:
            break
        victims.append(model)
        held -= size_of(model)
    return victims, held + need <= budget
