"""Grade one lesson against one target, in small stages each testable alone.

1. :func:`test_files` picks the lesson's autograder files (public, and hidden if asked);
2. :func:`run_pytest` runs them in a fresh process with the target set, the
   recording plugin loaded and a time limit on the whole run;
3. :func:`read_outcomes` reads what the plugin recorded;
4. :func:`score` turns outcomes into points with ``course.toml``: a test earns its
   points only by passing, and a listed test that never ran earns nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..exercises.meta import Course, Lesson, load_course
from .loader import TARGET_ENV, resolve_target


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


def test_files(course: Course, lesson: Lesson, *, hidden: bool) -> list[Path]:
    folder = course.autograder_dir / lesson.slug
    files = sorted(folder.glob("test_*.py"))
    if hidden:
        files += sorted((folder / "hidden").glob("test_*.py"))
    if not files:
        raise GradingError(f"no autograder tests for {lesson.slug} in {folder}")
    return files


def run_pytest(course: Course, files: list[Path], target: Path, results: Path, *, select: str | None = None,
               timeout: float = 900, test_timeout: float = 180) -> subprocess.CompletedProcess:
    """Run the graded tests in a new interpreter; the caller's process is never at risk."""
    cmd = [
        sys.executable, "-m", "pytest", *map(str, files),
        "-c", str(course.autograder_dir / "pytest.ini"), "--rootdir", str(course.autograder_dir),
        "-p", "course.grading.pytest_plugin", "-p", "no:cacheprovider",
        "--course-results", str(results), "--course-test-timeout", str(test_timeout),
        "-q", "--no-header", "-rN", "--tb=no",
    ]
    if select:
        cmd += ["-m", select]
    env = {**os.environ, TARGET_ENV: str(target), "COURSE_ROOT": str(course.root), "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        return subprocess.run(cmd, env=env, cwd=tempfile.gettempdir(), capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise GradingError(f"grading {target} took longer than {timeout:g} s and was stopped") from exc


def read_outcomes(results: Path, proc: subprocess.CompletedProcess) -> dict:
    try:
        return json.loads(results.read_text())
    except (OSError, ValueError):
        tail = (proc.stdout + proc.stderr)[-2000:]
        raise GradingError(f"pytest ended (exit {proc.returncode}) without recording results:\n{tail}") from None


def score(lesson: Lesson, outcomes: dict, *, hidden: bool, only: str | None = None) -> list[TestResult]:
    results = []
    for name, (ex, pts, is_hidden) in lesson.test_points(hidden=hidden).items():
        if only and ex.id != only:
            continue
        got = outcomes.get("tests", {}).get(name)
        outcome = got["outcome"] if got else "not run"
        message = got["message"] if got else "this test did not run (see the collection errors)"
        results.append(TestResult(
            name=name if not is_hidden else f"hidden: {name}",
            exercise=ex.id,
            points=pts if outcome == "passed" else 0,
            max_points=pts,
            outcome=outcome,
            message="" if outcome == "passed" else message,
            expected=(got or {}).get("doc", ""),
            hint="" if outcome == "passed" else (ex.hints[0] if ex.hints else ""),
            section=lesson.section_url(ex),
            hidden=is_hidden,
            duration=(got or {}).get("duration", 0.0),
        ))
    return results


def grade_lesson(lesson: str | Lesson, target: str | os.PathLike | None = "exercises", *, hidden: bool = True,
                 exercise: str | None = None, course: Course | None = None, timeout: float = 900,
                 test_timeout: float = 180) -> GradeReport:
    """Grade ``lesson`` against ``target`` (``exercises``, ``solutions`` or a folder)."""
    course = course or load_course()
    lesson = course.lesson(lesson) if isinstance(lesson, str) else lesson
    target_dir = resolve_target(target, course)
    files = test_files(course, lesson, hidden=hidden)
    with tempfile.TemporaryDirectory(prefix="course-grade-") as tmp:
        results = Path(tmp) / "outcomes.json"
        select = exercise.replace(".", "_") if exercise else None
        proc = run_pytest(course, files, target_dir, results, select=select, timeout=timeout,
                          test_timeout=test_timeout)
        outcomes = read_outcomes(results, proc)
    tests = score(lesson, outcomes, hidden=hidden, only=exercise)
    return GradeReport(
        lesson=lesson.slug,
        target=str(target),
        points=sum(t.points for t in tests),
        max_points=sum(t.max_points for t in tests),
        tests=tests,
        collect_errors=outcomes.get("collect_errors", []),
    )
