"""One rule for tests that need an optional extra of the install (course.toml's [extra.NAME]).

On a learner's machine that installed less than ``.[all]`` such a test is skipped, with the pip line that
brings the extra; under CI (``CI=true``), where ``.[all]`` is installed, a missing extra is a failure, so
a broken install step cannot hide behind skips.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from course.exercises.meta import load_course

ROOT = Path(__file__).resolve().parents[1]


def missing(name: str) -> list[str]:
    """The modules of extra ``name`` that cannot be imported here."""
    return [m for m in load_course(ROOT).extras[name].modules if importlib.util.find_spec(m) is None]


def require_extra(*names: str) -> None:
    """Skip (or, under CI, fail) unless every extra in ``names`` is installed. Works at module level too."""
    course = load_course(ROOT)
    for name in names:
        gone = missing(name)
        if gone:
            message = f"needs the {name} extra ({', '.join(gone)} missing): {course.extras[name].pip}"
            if os.environ.get("CI") == "true":
                pytest.fail(message, pytrace=False)
            pytest.skip(message, allow_module_level=True)


def require_program(problem: str | None) -> None:
    """Skip (or, under CI, fail) when ``problem`` says a system program is missing or cannot run; ``None``: go on."""
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(problem, pytrace=False)
        pytest.skip(problem, allow_module_level=True)


def require_isolation() -> None:
    """bubblewrap must run a sandbox here: the hostile-grading tests prove what the sandbox stops, and without it
    they would only prove that the attacks work."""
    from course.grading.isolation import bwrap_problem

    require_program(bwrap_problem())


def require_prometheus() -> None:
    """Debian's prometheus and promtool must be installed."""
    from course.production.prometheus import prometheus_problem

    require_program(prometheus_problem())
