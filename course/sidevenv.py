"""Tools that live in a virtual environment of their own in the course cache (vLLM, garak).

Some tools pin their neighbours so tightly (or need so much of them) that,
installed beside the course, they would change what the lessons use. The
course gives each one ``<course cache>/NAME/venv``, made by a ``course ...
setup`` command, and talks to it only as a separate process. This module is
what those setups share: the folders, a ``python -m venv``, a step that fails
with the end of what it printed, and a marker file written last, so that a
half-made environment is never taken for a ready one.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


def tool_home(name: str) -> Path:
    """``NAME/`` in the course cache (``$COURSE_CACHE`` or ``~/.cache/edge-agents-course``), beside ``models/``."""
    from .models.registry import cache_dir

    return cache_dir().parent / name


def venv_python(folder: Path) -> Path:
    return folder / "bin" / "python"


def pip_command(folder: Path) -> list[str]:
    """``pip`` of the environment in ``folder``, quiet and without its version check."""
    return [str(venv_python(folder)), "-m", "pip", "--disable-pip-version-check", "-q"]


def read_marker(folder: Path, name: str) -> dict | None:
    """The marker ``name`` in ``folder`` that a finished setup wrote, or None."""
    try:
        found = json.loads((folder / name).read_text())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def write_marker(folder: Path, name: str, data: dict) -> None:
    (folder / name).write_text(json.dumps(data) + "\n")


def run(cmd: list[str], what: str, error: type[Exception], *, timeout: float = 1800, env: dict | None = None) -> str:
    """Run ``cmd``; its standard output, or ``error`` saying ``what`` failed with the end of what it printed."""
    try:
        proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise error(f"{what} did not finish within {timeout:g} s") from None
    except OSError as exc:
        raise error(f"{what} could not start: {exc}") from None
    if proc.returncode != 0:
        from .child import tail

        raise error(f"{what} failed (exit {proc.returncode}):\n{tail(proc.stdout + proc.stderr, 12)}")
    return proc.stdout


def make_venv(folder: Path, what: str, error: type[Exception]) -> None:
    """A new, empty virtual environment in ``folder`` (whatever was there is removed first)."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    run([sys.executable, "-m", "venv", str(folder)], f"creating {what}'s virtual environment", error)


@dataclass
class SetupResult:
    folder: Path
    seconds: float
    version: str
    made: bool  # False when an earlier setup was found and kept

    def to_dict(self) -> dict:
        return {"folder": str(self.folder), "seconds": round(self.seconds, 1), "version": self.version,
                "made": self.made}


__all__ = ["SetupResult", "make_venv", "pip_command", "read_marker", "run", "tool_home", "venv_python",
           "write_marker"]
