"""Fixtures shared by every lesson's autograder tests.

``target`` imports the code being graded (exercises, solutions or a submission,
chosen by the grading runner through ``COURSE_TARGET``); ``smollm2`` is the real
shipped model, loaded once per run.
"""

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from course.grading.loader import TargetLoader

# No example database: grading must not write into the submission or the course.
settings.register_profile("grading", database=None, deadline=None, max_examples=60,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("grading")


@pytest.fixture(scope="module")
def target(request) -> TargetLoader:
    path = Path(str(request.path)).parent
    slug = path.parent.name if path.name == "hidden" else path.name
    return TargetLoader(slug)


@pytest.fixture(scope="session")
def smollm2():
    from course.backends import LlamaCppBackend

    return LlamaCppBackend("smollm2-135m")
