"""A model manager around Foundry Local: prepare, load, health, metrics, idle and memory-budget unloading.

The source's ``FoundryLocalManager`` methods ``health_check()``,
``get_memory_usage()`` and ``get_average_latency()`` do not exist in any SDK.
The course builds them from real signals:

- **health**: ``not prepared`` (no converted folder), ``not loaded`` (prepared,
  not in memory: a fact, not a failure), then a probe request on a loaded
  model: ``healthy``, ``slow`` (the probe answered after ``slow_s``) or
  ``failing`` (it raised, or answered nothing);
- **metrics**: requests, errors and error rate, latency percentiles over a
  window, and the process's resident memory (``/proc/self/statm``), measured
  by the course since the SDK reports none;
- **resources**: a model idle for ``idle_s`` is unloaded by :meth:`reap`, and
  loading one more model than ``memory_budget`` allows unloads the least
  recently used first (sizes: the prepared folder, which int4 weights fill).

It takes a ``loader`` (alias -> backend) and a ``prepared`` check, so the same
manager runs on Foundry Local (:meth:`for_foundry`) and on fakes in tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..backends.types import BackendError
from ..lifecycle import NoRoom, ResidentModels
from ..observability import RequestWindow, resident_bytes, stopwatch

PROBE = [{"role": "user", "content": "Reply with the word ok."}]


@dataclass
class Health:
    alias: str
    state: str  # not prepared | not loaded | healthy | slow | failing
    probe_s: float | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.state in ("healthy", "slow")


@dataclass
class Stats:
    """Requests and errors since the model was first used, latencies of the last 200."""

    requests: int = 0
    errors: int = 0
    recent: RequestWindow = field(default_factory=lambda: RequestWindow(200))


class ModelManager:
    def __init__(self, loader: Callable[[str], Any], *, prepared: Callable[[str], bool] = lambda a: True,
                 size_of: Callable[[str], int] = lambda a: 0, idle_s: float = 300.0,
                 memory_budget: int | None = None, slow_s: float = 5.0, clock=time.monotonic):
        self.loader, self.prepared, self.size_of = loader, prepared, size_of
        self.idle_s, self.memory_budget, self.slow_s = idle_s, memory_budget, slow_s
        self._now = clock
        self.stats: dict[str, Stats] = {}
        self.events: list[str] = []
        self.residents = ResidentModels(
            memory_budget=memory_budget, clock=clock,
            on_load=lambda r: self.events.append(f"loaded {r.key}"),
            on_unload=lambda r, why: self.events.append(f"unloaded {r.key} ({why})"))

    @property
    def loaded(self) -> dict:
        """alias -> its :class:`~course.lifecycle.Resident` (backend, size, last use, requests in flight)."""
        return self.residents.entries

    @classmethod
    def for_foundry(cls, **options) -> ModelManager:
        from .prepare import folder_size, is_converted, onnx_folder
        from .runtime import FoundryLocalBackend

        return cls(FoundryLocalBackend, prepared=is_converted, size_of=lambda a: folder_size(onnx_folder(a)),
                   **options)

    # -- lifecycle -------------------------------------------------------------
    def load(self, alias: str):
        """The loaded backend for ``alias``, loading it (and unloading LRU models over budget) if needed."""
        with self.residents.lock:
            if alias in self.loaded:
                return self.loaded[alias].backend
            if not self.prepared(alias):
                raise BackendError(f"{alias} is not prepared: run `course foundry prepare --model {alias}`")
            try:
                resident, _ = self.residents.ensure(alias, lambda: self.loader(alias), size=self.size_of(alias),
                                                    keep_alive_s=self.idle_s)
            except NoRoom as exc:
                if exc.whole:
                    raise BackendError(f"{alias} needs about {exc.size} bytes, more than the whole budget "
                                       f"({exc.budget}); raise the budget or use a smaller model") from None
                raise BackendError(f"no room for {alias} within the budget: the loaded models are in use") from None
            return resident.backend

    def unload(self, alias: str, *, reason: str = "asked") -> bool:
        return self.residents.unload(alias, reason)

    def reap(self) -> list[str]:
        """Unload every model idle for ``idle_s`` or longer (none that is in use); returns their aliases."""
        return self.residents.unload_idle()

    # -- use -------------------------------------------------------------------
    def chat(self, alias: str, messages: list[dict], **options):
        backend = self.load(alias)
        stats = self.stats.setdefault(alias, Stats())
        with self.residents.hold(self.loaded[alias]), stopwatch() as watch:
            try:
                return backend.chat(messages, **options)
            except Exception:
                stats.errors += 1
                raise
            finally:
                stats.requests += 1
                stats.recent.add(watch.seconds)

    # -- observation -----------------------------------------------------------
    def health(self, alias: str, *, probe: bool = True) -> Health:
        if not self.prepared(alias):
            return Health(alias, "not prepared", detail=f"run `course foundry prepare --model {alias}`")
        if alias not in self.loaded:
            return Health(alias, "not loaded", detail="prepared; loads on first use")
        if not probe:
            return Health(alias, "healthy", detail="loaded (not probed)")
        start = time.perf_counter()
        try:
            reply = self.chat(alias, PROBE, max_tokens=4, temperature=0)
        except Exception as exc:  # noqa: BLE001 - any failure of the probe is the finding
            return Health(alias, "failing", time.perf_counter() - start, f"{type(exc).__name__}: {exc}")
        took = time.perf_counter() - start
        if not (reply.content or "").strip():
            return Health(alias, "failing", took, "the probe got an empty reply")
        if took > self.slow_s:
            return Health(alias, "slow", took, f"the probe took {took:.2f} s (slow above {self.slow_s:g} s)")
        return Health(alias, "healthy", took)

    def metrics(self, alias: str) -> dict:
        stats = self.stats.get(alias, Stats())
        return {"alias": alias, "loaded": alias in self.loaded, "requests": stats.requests, "errors": stats.errors,
                "error_rate": stats.errors / stats.requests if stats.requests else 0.0,
                "p50_s": stats.recent.percentile(50), "p95_s": stats.recent.percentile(95),
                "resident_bytes": resident_bytes()}
