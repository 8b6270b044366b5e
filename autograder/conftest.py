"""Fixtures shared by every lesson's autograder tests.

``target`` imports the code being graded (exercises, solutions or a submission,
chosen by the grading runner through ``COURSE_TARGET``); ``smollm2`` is the real
shipped model, loaded once per run. Notebooks exported for nbgrader get the
same fixtures from ``course.grading.fixtures``.
"""

from pathlib import Path

import pytest

from course.grading import fixtures
from course.grading.loader import TargetLoader

fixtures.load_hypothesis_profile()


@pytest.fixture(scope="module")
def target(request) -> TargetLoader:
    path = Path(str(request.path)).parent
    slug = path.parent.name if path.name == "hidden" else path.name
    return TargetLoader(slug)


# One session fixture per entry of fixtures.FIXTURES (smollm2, ...), so pytest and
# notebooks always offer the same names.
for _name, _make in fixtures.FIXTURES.items():
    globals()[_name] = pytest.fixture(scope="session", name=_name)(lambda _make=_make: _make())
