"""Will a model fit under this process's memory limits? Asked before llama.cpp loads it (lesson 10).

A process may run under two kinds of memory limit:

- ``RLIMIT_AS`` (``ulimit -v``, ``prlimit --as``): a cap on *address space*,
  which every machine with a POSIX kernel has. It counts what is mapped, not
  what is resident: llama.cpp maps the whole GGUF file, llama-cpp-python keeps
  its own copy of the logits (``n_batch`` x vocabulary floats, beside
  llama.cpp's), and each thread that runs reserves a malloc arena;
- a cgroup's memory limit (cgroup v2 ``memory.max``, v1
  ``memory.limit_in_bytes``; containers, systemd units): a cap on *resident*
  memory.

Past either, llama.cpp's load fails half-way (``Failed to create
llama_context``, or a ``MemoryError`` from NumPy) or the kernel's OOM killer
ends the process. :func:`require_fit` predicts both figures from the GGUF
header (lesson 02's :func:`~course.formats.memory.predict_memory`) and refuses
before anything is loaded, with the numbers and what to do. Without a limit it
costs nothing: no header is read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .types import BackendUnavailableError

MiB = 2**20
# Address space a loaded model takes beyond its predicted buffers: malloc arenas of the threads that run
# (64 MiB each on glibc), the libraries llama.cpp and NumPy map, the first generation's worker thread.
# Measured on SmolLM2 and Qwen with contexts of 512 and 4096 (`course bench limits`): 71 to 216 MiB.
THREADS_AND_LIBRARIES = 256 * MiB
MEMORY_CHECK_ENV = "COURSE_MEMORY_CHECK"  # "off": load without the check, to see what llama.cpp does then
UNLIMITED = 2**62  # cgroup v1 writes "no limit" as a huge number (9223372036854771712)


class ModelDoesNotFit(BackendUnavailableError):
    """A model that would not fit in this process's memory limit; the message gives the figures and the ways out."""


@dataclass(frozen=True)
class MemoryLimits:
    """This process's memory limits and use, in bytes (``None``: no such limit)."""

    address_space: int | None
    address_space_used: int
    cgroup: int | None = None
    cgroup_used: int | None = None

    @property
    def any(self) -> bool:
        return self.address_space is not None or self.cgroup is not None


def _vm_size(proc: Path) -> int:
    try:
        for line in (proc / "status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    if text == "max":
        return None
    try:
        value = int(text)
    except ValueError:
        return None
    return None if value >= UNLIMITED else value


def cgroup_memory(proc: Path = Path("/proc/self"), root: Path = Path("/sys/fs/cgroup")) -> tuple[int | None, int | None]:
    """(limit, usage) of the cgroup this process is in, v2 or v1; (None, None) without a limit."""
    try:
        lines = (proc / "cgroup").read_text().splitlines()
    except OSError:
        return None, None
    for line in lines:
        number, controllers, path = (line.split(":", 2) + ["", ""])[:3]
        rel = path.lstrip("/")
        if number == "0" and controllers == "":  # cgroup v2
            candidates = [(root / rel, "memory.max", "memory.current"), (root, "memory.max", "memory.current")]
        elif "memory" in controllers.split(","):  # cgroup v1
            candidates = [(root / "memory" / rel, "memory.limit_in_bytes", "memory.usage_in_bytes"),
                          (root / "memory", "memory.limit_in_bytes", "memory.usage_in_bytes")]
        else:
            continue
        for folder, limit_file, usage_file in candidates:  # a container may see its own cgroup as the root
            if (folder / limit_file).exists():
                limit = _read_int(folder / limit_file)
                if limit is not None:
                    return limit, _read_int(folder / usage_file)
                break
    return None, None


def read_limits(proc: Path = Path("/proc/self"), cgroup_root: Path = Path("/sys/fs/cgroup")) -> MemoryLimits:
    """This process's limits now."""
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    limit, used = cgroup_memory(proc, cgroup_root)
    return MemoryLimits(None if soft == resource.RLIM_INFINITY else soft, _vm_size(proc), limit, used)


@dataclass(frozen=True)
class FitCheck:
    """A model's predicted memory against the limits; ``problems`` empty when it fits."""

    parts: dict[str, float]  # address-space parts in bytes: weights, kv_cache, logits, logits_copy, threads_and_libraries
    resident: float  # predicted resident bytes: weights + KV cache + llama.cpp's compute buffer
    limits: MemoryLimits
    problems: list[str] = field(default_factory=list)

    @property
    def address_space(self) -> float:
        return sum(self.parts.values())

    @property
    def fits(self) -> bool:
        return not self.problems


def check_fit(path: str | Path, n_ctx: int, *, n_batch: int = 512, limits: MemoryLimits | None = None) -> FitCheck:
    """Predict what loading ``path`` with ``n_ctx`` takes and compare it with ``limits`` (this process's by default)."""
    from ..formats.memory import ModelShape, predict_memory

    limits = limits or read_limits()
    shape = ModelShape.from_gguf(path)
    estimate = predict_memory(shape, n_ctx, n_ubatch=min(n_batch, 512))
    parts = {"weights": estimate.weights, "kv_cache": estimate.kv_cache, "logits": estimate.compute,
             "logits_copy": float(n_batch * shape.vocabulary * 4), "threads_and_libraries": float(THREADS_AND_LIBRARIES)}
    check = FitCheck(parts, estimate.total, limits)
    need = check.address_space
    if limits.address_space is not None:
        room = limits.address_space - limits.address_space_used
        if need > room:
            check.problems.append(
                f"it needs about {need / MiB:.0f} MiB of address space ("
                + ", ".join(f"{k.replace('_', ' ')} {v / MiB:.0f}" for k, v in parts.items())
                + f") and this process may grow by {max(room, 0) / MiB:.0f} MiB more (RLIMIT_AS "
                f"{limits.address_space / MiB:.0f} MiB, {limits.address_space_used / MiB:.0f} MiB mapped already)")
    if limits.cgroup is not None:
        room = limits.cgroup - (limits.cgroup_used or 0)
        if estimate.total > room:
            check.problems.append(
                f"it needs about {estimate.total / MiB:.0f} MiB resident and its cgroup has "
                f"{max(room, 0) / MiB:.0f} MiB left (limit {limits.cgroup / MiB:.0f} MiB)")
    return check


def require_fit(path: str | Path, n_ctx: int, *, n_batch: int = 512) -> FitCheck | None:
    """Raise :class:`ModelDoesNotFit` when a limit is set and the model would not fit; None without limits."""
    if os.environ.get(MEMORY_CHECK_ENV, "").lower() == "off":
        return None
    limits = read_limits()
    if not limits.any:
        return None
    check = check_fit(path, n_ctx, n_batch=n_batch, limits=limits)
    if not check.fits:
        raise ModelDoesNotFit(
            f"{Path(path).name} with a context of {n_ctx} tokens does not fit in this process's memory limit, so it "
            f"was not loaded: {'; '.join(check.problems)}. Raise the limit (ulimit -v, or the container's memory), "
            "choose a smaller model (`course models`) or a shorter context (n_ctx)")
    return check


def limit_note() -> str:
    """A phrase for an error raised while loading under a limit ('' without one): the limit may be why."""
    limits = read_limits()
    parts = []
    if limits.address_space is not None:
        parts.append(f"RLIMIT_AS {limits.address_space / MiB:.0f} MiB")
    if limits.cgroup is not None:
        parts.append(f"cgroup memory limit {limits.cgroup / MiB:.0f} MiB")
    return ("this process runs under a memory limit (" + ", ".join(parts) + "), which may be what stopped it"
            if parts else "")
