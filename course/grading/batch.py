"""Grade a class: every submission in a folder, in parallel, with per-student feedback.

``SUBMISSIONS_DIR/<student>/`` holds one student's work: lesson folders
(``<student>/l00_getting_started/agent.py`` ...) or, for a one-lesson class,
the lesson's files directly. Each lesson of each student is graded by
:func:`course.grading.runner.grade_files` in its own sandboxes and processes,
``workers`` at a time. A run in which a submission changed files on disk
(its own, the tests', or, through a guessed path, another student's) is graded
again at the end, alone, so that no submission can change another's result.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..exercises.meta import Course, Lesson, load_course
from .runner import GradeReport, grade_files
from .sandbox import CourseSnapshot, submission_files
from .supervisor import Limits


@dataclass
class StudentResult:
    student: str
    reports: dict[str, GradeReport] = field(default_factory=dict)  # lesson slug -> report
    regraded: bool = False

    @property
    def points(self) -> int:
        return sum(r.points for r in self.reports.values())

    @property
    def max_points(self) -> int:
        return sum(r.max_points for r in self.reports.values())


@dataclass
class BatchResult:
    students: list[StudentResult]
    lessons: list[str]
    workers: int
    seconds: float = 0.0


def discover(submissions: Path) -> list[tuple[str, Path]]:
    """Student name -> folder, for every sub-folder not starting with a dot."""
    if not submissions.is_dir():
        raise FileNotFoundError(f"{submissions} is not a folder of submissions (one sub-folder per student)")
    return sorted((p.name, p) for p in submissions.iterdir() if p.is_dir() and not p.name.startswith("."))


def lesson_folder(student_dir: Path, lesson: Lesson, single_lesson: bool) -> Path | None:
    if (student_dir / lesson.slug).is_dir():
        return student_dir / lesson.slug
    if single_lesson:
        return student_dir
    return None


def grade_batch(
    submissions: Path,
    *,
    course: Course | None = None,
    lessons: list[str] | None = None,
    workers: int = 2,
    limits: Limits | None = None,
    progress: Callable[[str, str], None] | None = None,
) -> BatchResult:
    """Grade every student's submission; ``progress(student, lesson)`` is called after each lesson."""
    import time

    start = time.perf_counter()
    course = course or load_course()
    chosen = [course.lesson(name) for name in lessons] if lessons else list(course.lessons)
    snapshot = CourseSnapshot.take(course)
    cores = os.cpu_count() or 1
    base = limits or Limits()
    parallel = Limits(base.test_s, base.submission_s, base.memory_mb, base.threads or max(1, cores // workers))
    alone = Limits(base.test_s, base.submission_s, base.memory_mb, base.threads or cores)
    students = discover(submissions)

    def grade_one(student: str, folder: Path, lesson: Lesson, lim: Limits) -> GradeReport:
        files, notes = submission_files(lesson, lesson_folder(folder, lesson, len(chosen) == 1))
        report = grade_files(lesson, files, snapshot=snapshot, limits=lim, target=student)
        report.notes[:0] = notes
        return report

    def graded_with_progress(student: str, folder: Path, lesson: Lesson, lim: Limits) -> GradeReport:
        report = grade_one(student, folder, lesson, lim)
        if progress:
            progress(student, lesson.slug)
        return report

    results = {name: StudentResult(name) for name, _ in students}
    jobs = [(name, folder, lesson) for name, folder in students for lesson in chosen]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {pool.submit(graded_with_progress, name, folder, lesson, parallel): (name, lesson.slug)
                   for name, folder, lesson in jobs}
        for future, (name, slug) in futures.items():
            results[name].reports[slug] = future.result()
    # Any run that saw files change is graded again, alone: a neighbour cannot have touched it then.
    for name, folder, lesson in jobs:
        if results[name].reports[lesson.slug].tampered:
            report = grade_one(name, folder, lesson, alone)
            report.notes.append("graded again alone: files changed during the parallel run")
            results[name].reports[lesson.slug] = report
            results[name].regraded = True
    return BatchResult([results[name] for name, _ in students], [l.slug for l in chosen], workers,
                       time.perf_counter() - start)


def feedback_text(student: StudentResult, course: Course) -> str:
    """What a student reads: per lesson, points, and for each failed public test what, why and where to read."""
    lines = [f"# Feedback for {student.student}", "", f"Total: {student.points}/{student.max_points} points", ""]
    for slug, report in student.reports.items():
        lesson = course.lesson(slug)
        lines += [f"## {lesson.short} {lesson.title}: {report.points}/{report.max_points}", ""]
        lines += [f"- note: {note}" for note in report.notes]
        for ex_id, summary in report.exercises().items():
            mark = "passed" if summary["passed"] else "not yet"
            lines.append(f"- exercise {ex_id}: {summary['points']}/{summary['max_points']} ({mark})")
        failed = [t for t in report.tests if t.outcome != "passed"]
        if failed:
            lines.append("")
        for t in failed:
            if t.hidden:
                lines.append(f"### {t.exercise}: a hidden test did not pass")
                lines += ["", f"- read: {t.section}", ""]
                continue
            lines += [f"### {t.exercise}: {t.name} ({t.outcome})", ""]
            if t.expected:
                lines.append(f"- expected: {t.expected}")
            first = next((line for line in t.message.splitlines() if line.strip()), "")
            if first:
                lines.append(f"- got: `{first[:300]}`")
            if t.hint:
                lines.append(f"- hint: {t.hint}")
            lines += [f"- read: {t.section}", ""]
    return "\n".join(lines).rstrip() + "\n"


def write_outputs(result: BatchResult, out: Path, course: Course) -> dict[str, Path]:
    """``scores.csv`` (one row per student, one column per test), ``scores.json`` and ``feedback/<student>.md``."""
    out.mkdir(parents=True, exist_ok=True)
    columns: list[tuple[str, str]] = []
    for slug in result.lessons:
        lesson = course.lesson(slug)
        columns += [(slug, name) for name in lesson.test_points(hidden=True)]
    csv_path = out / "scores.csv"
    with csv_path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "points", "max_points", *[f"{s}:{n}" for s, n in columns]])
        for st in result.students:
            by_name = {(slug, t.name.removeprefix("hidden: ")): t.points
                       for slug, r in st.reports.items() for t in r.tests}
            writer.writerow([st.student, st.points, st.max_points, *[by_name.get(c, 0) for c in columns]])
    data = {
        st.student: {
            "points": st.points, "max_points": st.max_points, "regraded": st.regraded,
            "lessons": {slug: r.to_dict() for slug, r in st.reports.items()},
        }
        for st in result.students
    }
    json_path = out / "scores.json"
    json_path.write_text(json.dumps(data, indent=2))
    feedback = out / "feedback"
    feedback.mkdir(exist_ok=True)
    for st in result.students:
        (feedback / f"{st.student}.md").write_text(feedback_text(st, course))
    return {"csv": csv_path, "json": json_path, "feedback": feedback}
