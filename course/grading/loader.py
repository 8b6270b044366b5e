"""Import the learner's code from the target being graded.

The same autograder tests grade three kinds of target: ``exercises`` (the
learner's working copy, the default), ``solutions`` (the reference), or any
folder of a submission. A target folder holds the lesson packages
(``<folder>/l00_getting_started/agent.py``) or is one lesson folder itself
(``<folder>/agent.py``). Modules are imported under a private package name, so
a target never shadows or is shadowed by another copy of the same lesson.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import types
from pathlib import Path

from ..exercises.meta import Course, CourseError, load_course

TARGET_ENV = "COURSE_TARGET"
SUBMISSION_ENV = "COURSE_SUBMISSION"  # JSON: how to start the submission's process (course.grading.isolation)


class SubmissionError(Exception):
    """The target's code could not be imported; the message says where and why."""


def resolve_target(target: str | os.PathLike | None, course: Course | None = None) -> Path:
    """The folder a target name stands for."""
    course = course or load_course()
    target = target or os.environ.get(TARGET_ENV) or "exercises"
    if str(target) == "exercises":
        return course.exercises_dir
    if str(target) == "solutions":
        return course.solutions_dir
    path = Path(target).expanduser().resolve()
    if not path.is_dir():
        raise CourseError(f"target {target} is not a folder: give 'exercises', 'solutions' or a submission folder")
    return path


def lesson_dir(target_dir: Path, slug: str, course: Course | None = None) -> Path:
    """The folder of lesson ``slug`` inside a target."""
    if (target_dir / slug).is_dir():
        return target_dir / slug
    course = course or load_course()
    files = {ex.file for ex in course.lesson(slug).exercises}
    if any((target_dir / f).is_file() for f in files):
        return target_dir
    raise SubmissionError(f"{target_dir} has neither a {slug}/ folder nor the lesson's files ({', '.join(sorted(files))})")


def load_module(slug: str, module: str, target: str | os.PathLike | None = None) -> types.ModuleType:
    """Import ``module`` (for example ``"agent"``) of lesson ``slug`` from the target."""
    return import_from_folder(lesson_dir(resolve_target(target), slug), slug, module)


def import_from_folder(folder: Path, slug: str, module: str) -> types.ModuleType:
    """Import ``folder/<module>.py`` as ``_graded_<slug>.<module>`` (what :func:`load_module` does once the
    folder is known; the submission's own process calls it directly)."""
    package = f"_graded_{slug}"
    if package not in sys.modules or Path(sys.modules[package].__path__[0]) != folder:
        for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
            del sys.modules[name]
        pkg = types.ModuleType(package)
        pkg.__path__ = [str(folder)]
        pkg.__file__ = str(folder / "__init__.py")
        sys.modules[package] = pkg
    if not (folder / f"{module}.py").is_file():
        raise SubmissionError(f"{folder} has no {module}.py: the lesson's code must keep its file names")
    try:
        return importlib.import_module(f"{package}.{module}")
    except SubmissionError:
        raise
    except BaseException as exc:  # SyntaxError, ImportError, SystemExit, ... in the learner's module
        sys.modules.pop(f"{package}.{module}", None)
        raise SubmissionError(f"importing {folder / (module + '.py')} failed: {type(exc).__name__}: {exc}") from exc


class TargetLoader:
    """What an autograder test receives as its ``target`` fixture.

    Under the grading supervisor (``COURSE_SUBMISSION`` set), ``load`` gives a
    :class:`course.grading.remote.Remote` for the module, imported in the
    submission's own sandboxed process; elsewhere (a learner's own pytest run,
    the course's tests) the module itself.
    """

    def __init__(self, slug: str):
        self.slug = slug

    def __repr__(self) -> str:  # stable: it appears in hypothesis' failure messages, and so in scores.json
        return f"TargetLoader({self.slug!r})"

    def load(self, module: str) -> types.ModuleType:
        if os.environ.get(SUBMISSION_ENV):
            from .isolation import submission_process

            return submission_process().load(self.slug, module)
        return load_module(self.slug, module)
