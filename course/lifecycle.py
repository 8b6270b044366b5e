"""The life of a loaded model, as every part of the course that keeps models loaded sees it.

``course serve``'s engine (lesson 07) and lesson 06's model manager both load
models on demand, keep them while they are used, and unload the idle ones,
least recently used first, when a new model would not fit a memory budget.
The decision of which to unload is :func:`plan_evictions`; the bookkeeping
(loading, holding, unloading when idle or for room) is :class:`ResidentModels`.
Both are here once.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
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


@dataclass
class Resident:
    """One loaded model: its backend, its size, when it was last used, how many requests hold it now."""

    key: Hashable  # what the keeper files it under: an alias, or (alias, kind, n_ctx)
    backend: Any
    size: int
    last_used: float
    keep_alive_s: float = math.inf  # unloaded this long after its last use (never, by default)
    load_s: float = 0.0
    in_use: int = 0
    n_ctx: int | None = None  # the context it was loaded with, where that matters

    @property
    def expires(self) -> float:
        return self.last_used + self.keep_alive_s


class NoRoom(Exception):
    """A model of ``size`` bytes does not fit ``budget``: never (``whole``), or not while the models in use
    hold ``held`` bytes. The keepers turn it into their own error with their own advice."""

    def __init__(self, size: int, budget: int, held: int, *, whole: bool):
        super().__init__(f"{size} bytes do not fit a budget of {budget} ({held} held)")
        self.size, self.budget, self.held, self.whole = size, budget, held, whole


class ResidentModels:
    """Models loaded on demand, held while requests use them, unloaded when idle or to make room.

    The life of a loaded model, once, for ``course serve``'s engine (lesson 07) and lesson 06's model
    manager: :meth:`ensure` loads a model that is not loaded, first unloading idle ones, least recently
    used first, until it fits ``memory_budget`` (:func:`plan_evictions`); :meth:`hold` marks it in use for
    one request; :meth:`unload_idle` unloads those whose keep-alive has run out; a model in use is never
    unloaded. ``on_load`` and ``on_unload`` are told of each change (the owners keep their own logs).
    """

    def __init__(self, *, memory_budget: int | None = None, clock: Callable[[], float] = time.monotonic,
                 on_load: Callable[[Resident], None] = lambda r: None,
                 on_unload: Callable[[Resident, str], None] = lambda r, why: None):
        self.memory_budget = memory_budget
        self.clock = clock
        self.on_load, self.on_unload = on_load, on_unload
        self.entries: dict[Hashable, Resident] = {}
        self.lock = threading.RLock()

    def ensure(self, key: Hashable, load: Callable[[], Any], *, size: int,
               keep_alive_s: float = math.inf, n_ctx: int | None = None) -> tuple[Resident, float]:
        """The loaded model under ``key``, and the seconds loading it took now (0 if it was loaded).

        Raises :class:`NoRoom` when it does not fit the budget even after unloading every idle model.
        """
        with self.lock:
            if key in self.entries:
                return self.entries[key], 0.0
            self._make_room(size)
        start = time.perf_counter()
        backend = load()
        load_s = time.perf_counter() - start
        with self.lock:
            if key in self.entries:  # another thread loaded it meanwhile: keep that one
                close = getattr(backend, "close", None)
                if close:
                    close()
                return self.entries[key], 0.0
            resident = Resident(key, backend, size, self.clock(), keep_alive_s, load_s, n_ctx=n_ctx)
            self.entries[key] = resident
        self.on_load(resident)
        return resident, load_s

    def _make_room(self, size: int) -> None:
        if self.memory_budget is None:
            return
        if size > self.memory_budget:
            raise NoRoom(size, self.memory_budget, self.resident_bytes(), whole=True)
        victims, fits = plan_evictions(list(self.entries.values()), size, self.memory_budget,
                                       size_of=lambda r: r.size, busy=lambda r: r.in_use > 0,
                                       last_used=lambda r: r.last_used)
        if not fits:  # unload nothing for a model that would not fit anyway
            raise NoRoom(size, self.memory_budget, self.resident_bytes(), whole=False)
        for victim in victims:
            self.unload(victim.key, "memory budget")

    @contextlib.contextmanager
    def hold(self, resident: Resident) -> Iterator[Resident]:
        """Mark ``resident`` in use while the block runs; its last use is when the block ends."""
        with self.lock:
            resident.in_use += 1
        try:
            yield resident
        finally:
            with self.lock:
                resident.in_use -= 1
                resident.last_used = self.clock()

    def unload(self, key: Hashable, why: str) -> bool:
        """Unload the model under ``key`` (closing its backend); False if none was loaded."""
        with self.lock:
            resident = self.entries.pop(key, None)
        if resident is None:
            return False
        close = getattr(resident.backend, "close", None)
        if close:
            close()
        self.on_unload(resident, why)
        return True

    def unload_idle(self) -> list[Hashable]:
        """Unload every model not in use whose keep-alive has run out; returns their keys."""
        now = self.clock()
        with self.lock:
            keys = [k for k, r in self.entries.items() if r.in_use == 0 and r.expires <= now]
        return [key for key in keys if self.unload(key, "idle")]

    def resident_bytes(self) -> int:
        with self.lock:
            return sum(r.size for r in self.entries.values())

    def close(self, why: str) -> None:
        """Unload everything."""
        with self.lock:
            keys = list(self.entries)
        for key in keys:
            self.unload(key, why)
