"""The engine behind ``course serve``: which models are loaded, and whose turn it is.

One engine serves both protocol faces. It

- resolves a requested name (``smollm2-135m``, ``smollm2-135m:latest``, or a model
  derived with ``/api/create``) to a registry model;
- loads a model on first use and keeps it for ``keep_alive`` seconds after its
  last request (Ollama's default is five minutes), then unloads it;
- keeps the estimated memory of the loaded models under a budget by unloading
  the least recently used idle model first, the policy Ollama documents for
  ``OLLAMA_MAX_LOADED_MODELS``;
- runs one generation at a time, in arrival order. llama.cpp already uses every
  core for one generation, so two at once would each run at half speed; a
  first-come, first-served queue keeps the waiting time of every client bounded
  by the requests ahead of it, instead of letting a lucky thread jump the queue
  (Python's ``threading.Lock`` promises no order).

The memory of a loaded model is *estimated* from its file: the weights (the
file size), the KV cache for its context and the compute buffer, by lesson 02's
:func:`course.formats.memory.predict_memory`, which matches what llama.cpp
reports to the MiB.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import math
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from ..backends.memory_limit import ModelDoesNotFit
from ..lifecycle import NoRoom, Resident, ResidentModels
from ..models import ModelEntry, ModelNotInstalledError, UnknownModelError, get_model, list_models, model_status

DEFAULT_KEEP_ALIVE_S = 300.0  # Ollama's default: five minutes after the last request
DEFAULT_N_CTX = 4096
EMBED_N_CTX = 512


class EngineError(Exception):
    """A request the engine cannot serve; ``status`` is the HTTP status a face should answer."""

    status = 500


class ModelNotFound(EngineError):
    status = 404


class OverBudget(EngineError):
    status = 503


class BadContext(EngineError):
    status = 400


_TRAINED_CTX: dict[str, int] = {}


def trained_context(alias: str) -> int:
    """The context length the model was trained for, from its GGUF header (read once)."""
    if alias not in _TRAINED_CTX:
        from ..formats import read_gguf
        from ..models import model_path

        _TRAINED_CTX[alias] = int(read_gguf(model_path(alias)).arch_value("context_length", 2048))
    return _TRAINED_CTX[alias]


class Loadable(Protocol):
    def close(self) -> None: ...


Loader = Callable[[str, str, int], Loadable]  # (registry alias, kind, n_ctx) -> backend or embedder


def default_loader(alias: str, kind: str, n_ctx: int) -> Loadable:
    """A private copy of the model (``shared=False``), so that unloading frees it."""
    if kind == "embed":
        from ..backends.llama_embed import LlamaCppEmbedder

        return LlamaCppEmbedder(alias, n_ctx=n_ctx)
    from ..backends.llama_cpp import LlamaCppBackend

    return LlamaCppBackend(alias, n_ctx=n_ctx, shared=False)


def estimate_bytes(alias: str, kind: str, n_ctx: int) -> int:
    """Resident memory of a loaded model: weights + KV cache + compute buffer (lesson 02)."""
    from ..formats.memory import ModelShape, predict_memory
    from ..models import model_path

    # an embedding context allocates its KV cache too, so both kinds cost the same formula
    return int(predict_memory(ModelShape.from_gguf(model_path(alias)), n_ctx).total)


KEEP_ALIVE_FOREVER_S = 100 * 365.25 * 24 * 3600  # longer than this is "forever": a date that far off overflows
_UNIT_S = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_keep_alive(value: Any) -> float | None:
    """Ollama's ``keep_alive``: seconds (a number), or a duration such as ``"5m"``, ``"1h30m"``.

    Returns seconds; ``None`` for "use the default"; ``math.inf`` for a negative
    value (keep loaded forever) and for more than :data:`KEEP_ALIVE_FOREVER_S`
    (a century: ``1e300`` means forever too); ``0`` unloads right after the request.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"keep_alive must be a number of seconds or a duration like '5m', got {value!r}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        total, rest = 0.0, value.strip()
        parts = re.findall(r"(-?\d+(?:\.\d+)?)(ns|us|µs|ms|h|m|s)?", rest)
        if not parts or "".join(n + (u or "") for n, u in parts) != rest.replace(" ", ""):
            raise ValueError(f"keep_alive must be a number of seconds or a duration like '5m', got {value!r}")
        if len(parts) > 1 and any(not u for _, u in parts):
            raise ValueError(f"keep_alive {value!r}: every part of a compound duration needs a unit")
        for number, unit in parts:
            total += float(number) * _UNIT_S[unit or None]
        seconds = total
    else:
        raise ValueError(f"keep_alive must be a number of seconds or a duration like '5m', got {value!r}")
    if math.isnan(seconds):
        raise ValueError("keep_alive is NaN")
    return math.inf if seconds < 0 or seconds > KEEP_ALIVE_FOREVER_S else seconds


class FairQueue:
    """First come, first served: a ticket lock. ``waiting`` counts the requests in line."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._next = 0
        self._serving = 0

    @property
    def waiting(self) -> int:
        with self._cond:
            return self._next - self._serving

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        with self._cond:
            ticket = self._next
            self._next += 1
            while ticket != self._serving:
                self._cond.wait()
        try:
            yield
        finally:
            with self._cond:
                self._serving += 1
                self._cond.notify_all()


class ComputeThread:
    """One thread for every llama.cpp computation of the server, whichever connection asked for it.

    llama.cpp's OpenMP runtime keeps a team of worker threads per calling thread, and an idle team spins
    for a while before it sleeps. Served from each connection's own thread, generations on one connection
    ran about 2x slower while another connection that had generated stayed open (the official clients keep
    theirs open): the idle team spun against the working one on 2 cores. On one thread there is one team.
    """

    def __init__(self) -> None:
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="course-compute")

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` run on the compute thread; its result (or its exception) here."""
        return self._pool.submit(fn, *args).result()

    def iterate(self, iterable: Any) -> Iterator[Any]:
        """``iterable``'s items, produced on the compute thread; closing this closes it there too.

        The compute thread runs ahead instead of waiting for each item to be asked for: a round trip
        between two threads per token cost about 4 % of the generation speed.
        """
        items: queue.SimpleQueue = queue.SimpleQueue()
        stop = threading.Event()

        def produce() -> None:
            it = iter(iterable)
            try:
                for item in it:
                    items.put((True, item))
                    if stop.is_set():
                        break
                items.put((False, None))
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which raises it
                items.put((False, exc))
            finally:
                close = getattr(it, "close", None)
                if close:
                    close()

        future = self._pool.submit(produce)
        try:
            while True:
                more, value = items.get()
                if not more:
                    if value is not None:
                        raise value
                    return
                yield value
        finally:
            stop.set()  # the producer stops after the item it is making now, and closes the generator
            future.result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


@dataclass
class Derived:
    """A model made with ``/api/create``: a registry model plus a system prompt and defaults."""

    name: str
    base: str  # registry alias
    system: str | None = None
    parameters: dict = field(default_factory=dict)
    messages: list[dict] = field(default_factory=list)
    created: float = field(default_factory=time.time)


@dataclass(frozen=True)
class Loaded:
    """One loaded model, as ``/api/ps`` shows it (a snapshot of the engine's resident model)."""

    alias: str
    kind: str  # "chat" | "embed"
    n_ctx: int
    size_bytes: int
    load_s: float
    last_used: float
    keep_alive_s: float
    in_use: int = 0

    @property
    def expires(self) -> float:
        return self.last_used + self.keep_alive_s

    @classmethod
    def of(cls, resident: Resident) -> Loaded:
        alias, kind = resident.key
        return cls(alias, kind, resident.n_ctx, resident.size, resident.load_s, resident.last_used,
                   resident.keep_alive_s, resident.in_use)


@dataclass
class Lease:
    """What a request holds while it runs: the backend and how long loading it took."""

    backend: Any
    entry: ModelEntry
    derived: Derived | None
    load_s: float


class Engine:
    """Models loaded on demand, unloaded when idle or over budget, one generation at a time."""

    def __init__(
        self,
        models: list[str] | None = None,
        *,
        n_ctx: int = DEFAULT_N_CTX,
        keep_alive_s: float = DEFAULT_KEEP_ALIVE_S,
        memory_budget: int | None = None,
        loader: Loader = default_loader,
        estimate: Callable[[str, str, int], int] = estimate_bytes,
        clock: Callable[[], float] = time.monotonic,
        reap_every_s: float = 0.5,
    ):
        self.aliases = list(models) if models else [e.alias for e in list_models()]
        for alias in self.aliases:
            get_model(alias)  # unknown names fail here, with the known ones listed
        self.n_ctx = n_ctx
        self.keep_alive_s = keep_alive_s
        self.memory_budget = memory_budget
        self._loader = loader
        self._estimate = estimate
        self.clock = clock
        self.queue = FairQueue()
        self.metrics = None  # a course.servers.metrics.ServeMetrics when a server counts what it serves
        self.compute = ComputeThread()
        self.derived: dict[str, Derived] = {}
        self.events: list[str] = []  # "load smollm2-135m", "unload ... (idle)", for tests and the log
        # one copy per (alias, kind): a model may be loaded once for chat and once for embeddings, each with
        # one context (a request for a longer one reloads it with that context; shorter ones share it), so
        # memory is bounded whatever num_ctx values arrive
        self.residents = ResidentModels(
            memory_budget=memory_budget, clock=clock,
            on_load=lambda r: self.events.append(f"load {r.key[0]} ({r.key[1]}, n_ctx {r.n_ctx}, "
                                                 f"{r.size / 2**20:.0f} MiB)"),
            on_unload=lambda r, why: self.events.append(f"unload {r.key[0]} ({r.key[1]}, {why})"))
        self._stop = threading.Event()
        self._reaper = threading.Thread(target=self._reap_loop, args=(reap_every_s,), daemon=True,
                                        name="course-serve-reaper")
        self._reaper.start()

    # -- names ----------------------------------------------------------------
    @staticmethod
    def canonical(name: str) -> str:
        """``smollm2-135m:latest`` and ``smollm2-135m`` are the same model."""
        return name[: -len(":latest")] if name.endswith(":latest") else name

    def installed(self) -> list[ModelEntry]:
        """The served registry models that are installed (chunked ones need not be joined yet)."""
        return [e for e in (get_model(a) for a in self.aliases) if model_status(e.alias).installed]

    def resolve(self, name: Any) -> tuple[ModelEntry, Derived | None]:
        """The registry entry (and derived definition) behind ``name``."""
        if not isinstance(name, str) or not name.strip():
            raise ModelNotFound("model is required: name one of the models `GET /api/tags` lists")
        key = self.canonical(name.strip())
        derived = self.derived.get(key)
        alias = derived.base if derived else key
        if alias not in self.aliases:
            try:
                get_model(alias)
            except UnknownModelError as exc:
                raise ModelNotFound(f"model '{name}' not found: {exc}") from None
            raise ModelNotFound(f"model '{name}' is not served by this server (it serves {', '.join(self.aliases)})")
        entry = get_model(alias)
        status = model_status(alias)
        if not status.installed:
            raise ModelNotFound(f"model '{name}' not found: {status.problem}")
        return entry, derived

    # -- loading --------------------------------------------------------------
    @contextlib.contextmanager
    def use(self, name: str, *, kind: str = "chat", n_ctx: int | None = None,
            keep_alive: float | None = None) -> Iterator[Lease]:
        """Wait for this request's turn, load the model if needed, and hold it while the request runs."""
        entry, derived = self.resolve(name)
        # the server's n_ctx at least: a smaller num_ctx shares the loaded copy instead of loading another
        ctx = EMBED_N_CTX if kind == "embed" else max(n_ctx or 0, self.n_ctx)
        if n_ctx and n_ctx > trained_context(entry.alias):
            raise BadContext(f"num_ctx {n_ctx} is more than the {trained_context(entry.alias)} tokens "
                             f"'{entry.alias}' was trained for: ask for at most that")
        with self.queue.turn():
            slot, load_s = self._ensure_loaded(entry.alias, kind, ctx)
            try:
                with self.residents.hold(slot):
                    yield Lease(slot.backend, entry, derived, load_s)
            finally:
                if keep_alive is not None:
                    slot.keep_alive_s = keep_alive
                if slot.keep_alive_s == 0:
                    self.residents.unload(slot.key, "keep_alive 0")

    def load(self, name: str, *, kind: str = "chat", n_ctx: int | None = None,
             keep_alive: float | None = None) -> float:
        """Load without generating (Ollama's empty request); returns the load time in seconds."""
        with self.use(name, kind=kind, n_ctx=n_ctx, keep_alive=keep_alive) as lease:
            return lease.load_s

    def _ensure_loaded(self, alias: str, kind: str, n_ctx: int) -> tuple[Resident, float]:
        key = (alias, kind)
        with self.residents.lock:
            loaded = self.residents.entries.get(key)
        if loaded is not None and loaded.n_ctx >= n_ctx:
            return loaded, 0.0
        if loaded is not None:  # this request's turn: nothing else uses the copy now
            self.residents.unload(key, f"num_ctx {n_ctx} is longer than its {loaded.n_ctx}")
        size = self._estimate(alias, kind, n_ctx)
        try:  # loading too runs on the compute thread (llama.cpp may repack weights with its threads)
            return self.compute.call(lambda: self.residents.ensure(
                key, lambda: self._loader(alias, kind, n_ctx), size=size, keep_alive_s=self.keep_alive_s,
                n_ctx=n_ctx))
        except ModelDoesNotFit as exc:  # the process's own memory limit (RLIMIT_AS, a cgroup): a 503, not a crash
            raise OverBudget(str(exc)) from None
        except NoRoom as exc:
            need, budget = f"{exc.size / 2**20:.0f}", f"{exc.budget / 2**20:.0f}"
            if exc.whole:
                raise OverBudget(f"model '{alias}' needs about {need} MiB, more than the memory budget of "
                                 f"{budget} MiB: raise --memory-budget, or ask for a smaller num_ctx") from None
            raise OverBudget(f"model '{alias}' needs about {need} MiB and the models in use hold "
                             f"{exc.held / 2**20:.0f} of the {budget} MiB budget: retry when they finish") from None

    def unload(self, name: str) -> bool:
        """Unload every idle copy of ``name`` now; True if something was unloaded."""
        entry, _ = self.resolve(name)
        with self.residents.lock:
            keys = [k for k, r in self.residents.entries.items() if k[0] == entry.alias and r.in_use == 0]
        for key in keys:
            self.residents.unload(key, "asked")
        return bool(keys)

    def resident_bytes(self) -> int:
        return self.residents.resident_bytes()

    def loaded(self) -> list[Loaded]:
        with self.residents.lock:
            return sorted((Loaded.of(r) for r in self.residents.entries.values()), key=lambda s: -s.last_used)

    def expires_at(self, slot: Loaded) -> str:
        """When ``slot`` will be unloaded, as an RFC 3339 time (far future for "never")."""
        left = slot.expires - self.clock()
        when = datetime.now(timezone.utc) + (timedelta(days=365 * 100) if math.isinf(left)
                                             else timedelta(seconds=max(0.0, left)))
        return when.isoformat()

    def unload_idle(self) -> list[str]:
        """Unload the models whose keep-alive has run out; returns their names."""
        return [key[0] for key in self.residents.unload_idle()]

    def _reap_loop(self, every: float) -> None:
        while not self._stop.wait(every):
            try:
                self.unload_idle()
            except Exception as exc:  # the reaper must outlive a failing close()
                self.events.append(f"reaper error: {exc!r}")

    def close(self) -> None:
        self._stop.set()
        self._reaper.join(timeout=5)
        self.residents.close("server stopped")
        self.compute.close()


__all__ = [
    "DEFAULT_KEEP_ALIVE_S",
    "Derived",
    "Engine",
    "EngineError",
    "FairQueue",
    "Lease",
    "Loaded",
    "ModelNotFound",
    "ModelNotInstalledError",
    "OverBudget",
    "parse_keep_alive",
]
