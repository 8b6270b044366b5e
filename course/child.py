"""Run a short Python program in a child process, and fail with its last words when it fails.

Used where the course lets llama.cpp do something that may crash or print a
lot (load a model with its log on, quantize a file, measure a file), so that
a crash costs one step, not the caller's process, and its log stays readable.
"""

from __future__ import annotations

import subprocess
import sys


def tail(log: str, lines: int = 6) -> str:
    """The last ``lines`` lines of a log: where a failing child says why."""
    return "\n".join(log.strip().splitlines()[-lines:])


def run_python(args: list[str], *, what: str, error: type[Exception] = RuntimeError,
               timeout: float | None = None) -> tuple[str, str]:
    """Run ``python ARGS``; return its (stdout, stdout + stderr), or raise ``error`` naming ``what`` failed."""
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=timeout)
    log = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise error(f"{what} (exit {proc.returncode}):\n{tail(log)}")
    return proc.stdout, log
