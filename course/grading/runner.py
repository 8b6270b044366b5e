"""Grade one lesson against one target, in small stages each testable alone.

1. :func:`submission_files` (in :mod:`.sandbox`) takes the lesson's allowed files
   from the target;
2. :func:`build_sandbox` builds a fresh folder for the public tests, and another
   for the hidden ones, from a snapshot of the course;
3. :func:`run_sandbox` (in :mod:`.supervisor`) runs them in a child process under
   time and memory limits, surviving crashes and loops;
4. :func:`score` turns outcomes into points with ``course.toml``: a test earns its
   points only by passing, and a listed test that never ran earns nothing.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..exercises.meta import Course, Lesson, load_course
from .loader import SubmissionError, lesson_dir, resolve_target
from .sandbox import CourseSnapshot, build_sandbox, submission_files
from .supervisor import Limits, Outcome, run_sandbox


class GradingError(Exception):
    """Grading itself could not run (not: the code under test failed)."""


@dataclass
class TestResult:
    name: str
    exercise: str
    points: int
    max_points: int
    outcome: str  # passed | failed | error | skipped | not run
    message: str = ""
    expected: str = ""  # the test's docstring: what it checks
    hint: str = ""
    section: str = ""
    hidden: bool = False
    duration: float = 0.0


@dataclass
class GradeReport:
    lesson: str
    target: str
    points: int
    max_points: int
    tests: list[TestResult] = field(default_factory=list)
    collect_errors: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # files ignored, tampering seen, restarts
    tampered: bool = False

    @property
    def passed(self) -> bool:
        return self.points == self.max_points

    def exercises(self) -> dict[str, dict]:
        """Per exercise: points, max_points, passed."""
        out: dict[str, dict] = {}
        for t in self.tests:
            e = out.setdefault(t.exercise, {"points": 0, "max_points": 0})
            e["points"] += t.points
            e["max_points"] += t.max_points
        for e in out.values():
            e["passed"] = e["points"] == e["max_points"]
        return out

    def to_dict(self) -> dict:
        data = asdict(self)
        data["exercises"] = self.exercises()
        return data


def score(lesson: Lesson, outcomes: dict[str, Outcome], names: list[str]) -> list[TestResult]:
    points = lesson.test_points(hidden=True)
    results = []
    for name in names:
        ex, pts, is_hidden = points[name]
        got = outcomes.get(name) or Outcome("not run", "this test did not run (see the collection errors)")
        passed = got.outcome == "passed"
        results.append(TestResult(
            name=name if not is_hidden else f"hidden: {name}",
            exercise=ex.id,
            points=pts if passed else 0,
            max_points=pts,
            outcome=got.outcome,
            message="" if passed else got.message,
            expected=got.doc,
            hint="" if passed else (ex.hints[0] if ex.hints else ""),
            section=lesson.section_url(ex),
            hidden=is_hidden,
            duration=got.duration,
        ))
    return results


def grade_files(lesson: Lesson, files: dict[str, bytes], *, snapshot: CourseSnapshot, hidden: bool = True,
                exercise: str | None = None, limits: Limits = Limits(), target: str = "",
                only: Collection[str] | None = None) -> GradeReport:
    """Grade a lesson's submitted files (name -> bytes) in fresh sandboxes; ``only`` names the tests to run
    (the others are left out of the report), for a check that targets one criterion."""
    wanted = {name: is_hidden for name, (ex, _, is_hidden) in lesson.test_points(hidden=hidden).items()
              if (exercise is None or ex.id == exercise) and (only is None or name in only)}
    if only is not None and set(only) - set(wanted):
        raise GradingError(f"no test {', '.join(sorted(set(only) - set(wanted)))} in {lesson.slug}"
                           + (f"'s {exercise}" if exercise else ""))
    outcomes: dict[str, Outcome] = {}
    collect_errors: list[dict] = []
    notes: list[str] = []
    tampered = False
    for run_hidden in (False, True):
        names = [n for n, h in wanted.items() if h == run_hidden]
        if not names:
            continue
        sandbox = build_sandbox(snapshot, lesson, files, hidden=run_hidden)
        if not sandbox.tests:
            shutil.rmtree(sandbox.root, ignore_errors=True)
            kind = "hidden" if run_hidden else "public"
            raise GradingError(f"course.toml lists {kind} tests for {lesson.slug} but autograder/{lesson.slug}/"
                               f"{'hidden/' if run_hidden else ''} has no test_*.py files")
        try:
            run = run_sandbox(sandbox, names, limits)
        finally:
            shutil.rmtree(sandbox.root, ignore_errors=True)
        outcomes.update(run.outcomes)
        # messages of hidden tests could carry their source: they never leave the grader
        collect_errors += [] if run_hidden else run.collect_errors
        if run.tampered:
            tampered = True
            notes.append(f"the submission changed {' and '.join(run.tampered)} while it was graded")
        if run.rejected_lines:
            notes.append(f"{run.rejected_lines} unsigned line(s) on the grading channel were ignored")
    tests = score(lesson, outcomes, list(wanted))
    for t in tests:
        if t.hidden:
            t.message = "" if t.outcome == "passed" else f"a hidden test {t.outcome}"
            t.expected = ""
    return GradeReport(lesson=lesson.slug, target=target, points=sum(t.points for t in tests),
                       max_points=sum(t.max_points for t in tests), tests=tests, collect_errors=collect_errors,
                       notes=notes, tampered=tampered)


def grade_lesson(lesson: str | Lesson, target: str | os.PathLike | None = "exercises", *, hidden: bool = True,
                 exercise: str | None = None, course: Course | None = None, limits: Limits | None = None,
                 snapshot: CourseSnapshot | None = None, only: Collection[str] | None = None) -> GradeReport:
    """Grade ``lesson`` against ``target`` (``exercises``, ``solutions`` or a folder)."""
    course = course or load_course()
    lesson = course.lesson(lesson) if isinstance(lesson, str) else lesson
    target_dir = resolve_target(target, course)
    try:
        folder: Path | None = lesson_dir(target_dir, lesson.slug, course)
    except SubmissionError:
        folder = None
    files, notes = submission_files(lesson, folder)
    report = grade_files(lesson, files, snapshot=snapshot or CourseSnapshot.take(course), hidden=hidden,
                         exercise=exercise, limits=limits or Limits(), target=str(target), only=only)
    report.notes[:0] = notes
    return report
