"""What autograder tests may ask for, in one place for both ways of running them.

pytest gets these through ``autograder/conftest.py``; a notebook exported for
nbgrader gets them through :mod:`course.grading.notebook`. A test may take
``target`` (the learner's code, provided by whichever runner is grading) and
any name in :data:`FIXTURES`.
"""

from __future__ import annotations

import atexit
import importlib.util
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


FIXTURES: dict[str, Callable[[], Any]] = {"smollm2": smollm2, "course_server": course_server,
                                          "local_runtime": local_runtime}

# Provided by the runner itself rather than by FIXTURES.
RUNNER_FIXTURES = ("target",)
