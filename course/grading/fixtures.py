"""What autograder tests may ask for, in one place for both ways of running them.

pytest gets these through ``autograder/conftest.py``; a notebook exported for
nbgrader gets them through :mod:`course.grading.notebook`. A test may take
``target`` (the learner's code, provided by whichever runner is grading) and
any name in :data:`FIXTURES`.
"""

from __future__ import annotations

import atexit
import importlib.util
from dataclasses import dataclass
from typing import Any, Callable

from hypothesis import HealthCheck, Phase, settings

PROFILE = "grading"

_cache: dict[str, Any] = {}


def load_hypothesis_profile() -> None:
    """No example database (grading writes nothing into the submission or the course), no deadline, and no
    explain phase: a failing example is still shrunk to a small one, but hypothesis does not then spend
    seconds (10 s for one test of lesson 07's stubs) working out which parts of it did not matter."""
    settings.register_profile(PROFILE, database=None, deadline=None, max_examples=60,
                              suppress_health_check=[HealthCheck.too_slow],
                              phases=[p for p in Phase if p is not Phase.explain])
    settings.load_profile(PROFILE)


def smollm2():
    """The real shipped model, SmolLM2-135M, loaded once per process."""
    if "smollm2" not in _cache:
        from ..backends import LlamaCppBackend

        _cache["smollm2"] = LlamaCppBackend("smollm2-135m")
    return _cache["smollm2"]


def course_server():
    """``course serve`` with SmolLM2 on a free loopback port, started once per process (``.url``)."""
    if "course_server" not in _cache:
        from ..servers import CourseServer

        server = CourseServer(port=0, models=["smollm2-135m"]).start()
        atexit.register(server.close)
        _cache["course_server"] = server
    return _cache["course_server"]


def local_runtime():
    """SmolLM2 on Foundry Local where its SDK is installed and the model prepared (lesson 06), else SmolLM2 on
    llama.cpp: a test that takes it is worth the same points either way."""
    if "local_runtime" not in _cache:
        from ..foundry.prepare import is_converted

        backend = None
        if importlib.util.find_spec("foundry_local_sdk") is not None and is_converted("smollm2-135m"):
            try:
                from ..foundry.runtime import FoundryLocalBackend

                backend = FoundryLocalBackend("smollm2-135m")
                atexit.register(backend.close)
            except Exception:  # noqa: BLE001 - Foundry Local cannot start here: llama.cpp stands in
                backend = None
        _cache["local_runtime"] = backend or smollm2()
    return _cache["local_runtime"]


@dataclass(frozen=True)
class DecodeCase:
    """A session for lesson 04's decode loop, a prompt, and the greedy tokens the loop must give."""

    name: str
    session: Any
    prompt_ids: list[int]
    max_new_tokens: int
    head_size: int
    eos_ids: tuple[int, ...]
    expected: list[int]
    real: bool


def onnx_decoder() -> DecodeCase:
    """SmolLM2's ONNX form on plain ONNX Runtime, with ONNX Runtime GenAI's own greedy tokens as the answer,
    where both are installed and the form is prepared; elsewhere the course's NumPy stand-in with the same
    inputs and outputs, with the tokens it gives when it runs the whole sequence again for every token (no
    cache at all). A test that takes it is worth the same points either way."""
    if "onnx_decoder" not in _cache:
        _cache["onnx_decoder"] = _real_decode_case() or _stand_in_decode_case()
    return _cache["onnx_decoder"]


def _real_decode_case() -> DecodeCase | None:
    from ..models.forms import form_path, is_prepared

    if (importlib.util.find_spec("onnxruntime") is None or importlib.util.find_spec("onnxruntime_genai") is None
            or not is_prepared("smollm2-135m", "onnx")):
        return None
    from ..runtimes.compare import prompt_ids
    from ..runtimes.ort_decode import genai_greedy, genai_head_size, open_session

    folder = form_path("smollm2-135m", "onnx")
    ids = prompt_ids("smollm2-135m")
    expected, eos = genai_greedy(folder, ids, 24)
    return DecodeCase("SmolLM2-135M, int4 ONNX form", open_session(folder), ids, 24, genai_head_size(folder),
                      tuple(eos), expected, True)


def _stand_in_decode_case() -> DecodeCase:
    from ..runtimes.ort_decode import TinyDecoderSession

    session = TinyDecoderSession(seed=4)
    ids = [3, 14, 15, 9, 26, 5]
    return DecodeCase("the course's NumPy stand-in (onnxruntime or the ONNX form missing)", session, ids, 24,
                      session.head_size, (), session.greedy_without_cache(ids, 24), False)


FIXTURES: dict[str, Callable[[], Any]] = {"smollm2": smollm2, "course_server": course_server,
                                          "local_runtime": local_runtime, "onnx_decoder": onnx_decoder}

# Provided by the runner itself rather than by FIXTURES.
RUNNER_FIXTURES = ("target",)
