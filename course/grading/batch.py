"""Grade a class: every submission in a folder, in parallel, with per-student feedback.

``SUBMISSIONS_DIR/<student>/`` holds one student's work: lesson folders
(``<student>/l00_getting_started/agent.py`` ...) or, for a one-lesson class,
the lesson's files directly; or the lesson's notebooks
(``<student>/l00_getting_started.ipynb``), whose ``%%module`` cells are the files. Each lesson of each student is graded by
:func:`course.grading.runner.grade_files` in its own sandboxes and processes,
``workers`` at a time. A run in which a submission changed files on disk
(its own, the tests', or, through a guessed path, another student's) is graded
again at the end, alone, so that no submission can change another's result.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..exercises.meta import Course, CourseError, Lesson, load_course
from .isolation import choose
from .runner import GradeReport, TestResult, grade_files
from .sandbox import CourseSnapshot, digest, submission_files
from .supervisor import Limits

NO_ISOLATION_WARNING = ("WARNING: graded without isolation (--no-isolation): each submission ran as a plain "
                        "process of the grading account, able to read its files and disturb other submissions "
                        "and the grader; do not trust these scores against a hostile class")


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
    isolation: str = "bwrap"  # bwrap | process (--no-isolation)
    shard: tuple[int, int] | None = None  # (K, N): this run graded share K of N
    course_digest: str = ""  # what was graded with: course.toml, the course package and the tests

    @property
    def warning(self) -> str:
        return NO_ISOLATION_WARNING if self.isolation != "bwrap" else ""


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/8"`` -> (2, 8): share 2 of 8 (counted from 1)."""
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise CourseError(f"--shard takes K/N with whole numbers, such as 1/4 (got {text!r})") from None
    if not 1 <= k <= n:
        raise CourseError(f"--shard {text}: K must be between 1 and N")
    return k, n


def in_shard(student: str, shard: tuple[int, int] | None) -> bool:
    """Whether ``student`` belongs to share K of N: by a hash of the name, so every machine agrees whatever
    order it lists the folder in, and a student added later moves no one else."""
    if shard is None:
        return True
    k, n = shard
    return int.from_bytes(hashlib.sha256(student.encode()).digest()[:8], "big") % n == k - 1


def discover(submissions: Path) -> list[tuple[str, Path]]:
    """Student name -> folder, for every sub-folder not starting with a dot."""
    if not submissions.is_dir():
        raise FileNotFoundError(f"{submissions} is not a folder of submissions (one sub-folder per student)")
    return sorted((p.name, p) for p in submissions.iterdir() if p.is_dir() and not p.name.startswith("."))


def lesson_folder(student_dir: Path, lesson: Lesson, single_lesson: bool) -> Path | None:
    if (student_dir / lesson.slug).is_dir():
        return student_dir / lesson.slug
    if single_lesson or (student_dir / f"{lesson.slug}.ipynb").is_file():  # a notebook per lesson, side by side
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
    shard: tuple[int, int] | None = None,
) -> BatchResult:
    """Grade every student's submission (or share K of N of them, ``shard=(K, N)``); ``progress(student,
    lesson)`` is called after each lesson."""
    import time

    start = time.perf_counter()
    course = course or load_course()
    chosen = [course.lesson(name) for name in lessons] if lessons else list(course.lessons)
    snapshot = CourseSnapshot.take(course)
    cores = os.cpu_count() or 1
    base = limits or Limits()
    isolation = choose(base.isolation)  # once for the whole class: every submission is graded the same way
    parallel = dataclasses.replace(base, threads=base.threads or max(1, cores // workers), isolation=isolation)
    alone = dataclasses.replace(base, threads=base.threads or cores, isolation=isolation)
    students = [(name, folder) for name, folder in discover(submissions) if in_shard(name, shard)]

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
                       time.perf_counter() - start, isolation=isolation, shard=shard,
                       course_digest=snapshot_digest(snapshot))


def snapshot_digest(snapshot: CourseSnapshot) -> str:
    return digest({"course.toml": snapshot.meta, **{f"lib/{k}": v for k, v in snapshot.package.items()},
                   **{f"autograder/{k}": v for k, v in snapshot.autograder.items()}})


def feedback_text(student: StudentResult, course: Course, warning: str = "") -> str:
    """What a student reads: per lesson, points, and for each failed public test what, why and where to read."""
    lines = [f"# Feedback for {student.student}", ""]
    if warning:
        lines += [f"> {warning}", ""]
    lines += [f"Total: {student.points}/{student.max_points} points", ""]
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


def _run_info(result: BatchResult) -> dict:
    return {"format": 1, "lessons": result.lessons, "isolation": result.isolation, "warning": result.warning,
            "shard": f"{result.shard[0]}/{result.shard[1]}" if result.shard else None,
            "course_digest": result.course_digest, "students": [st.student for st in result.students]}


def write_outputs(result: BatchResult, out: Path, course: Course) -> dict[str, Path]:
    """``scores.csv`` (one row per student, one column per test), ``scores.json``, ``feedback/<student>.md`` and
    ``grading.json`` (how the run graded: lessons, isolation, shard, a digest of the tests).

    Everything is written into a private folder first and moved into ``out`` at the end, each file by one
    rename: a reader never sees half a file, and nothing that ran during grading writes here.
    """
    columns: list[tuple[str, str]] = []
    for slug in result.lessons:
        lesson = course.lesson(slug)
        columns += [(slug, name) for name in lesson.test_points(hidden=True)]
    isolation = "bwrap" if result.isolation == "bwrap" else "none"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "points", "max_points", "isolation", *[f"{s}:{n}" for s, n in columns]])
    for st in result.students:
        by_name = {(slug, t.name.removeprefix("hidden: ")): t.points
                   for slug, r in st.reports.items() for t in r.tests}
        writer.writerow([st.student, st.points, st.max_points, isolation, *[by_name.get(c, 0) for c in columns]])
    data = {
        st.student: {
            "points": st.points, "max_points": st.max_points, "regraded": st.regraded, "isolation": isolation,
            "lessons": {slug: r.to_dict() for slug, r in st.reports.items()},
        }
        for st in result.students
    }
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".grades-", dir=out))
    try:
        (staging / "scores.csv").write_text(buffer.getvalue())
        (staging / "scores.json").write_text(json.dumps(data, indent=2) + "\n")
        (staging / "grading.json").write_text(json.dumps(_run_info(result), indent=2) + "\n")
        (staging / "feedback").mkdir()
        for st in result.students:
            (staging / "feedback" / f"{st.student}.md").write_text(feedback_text(st, course, result.warning))
        for name in ("scores.csv", "scores.json", "grading.json"):
            os.replace(staging / name, out / name)
        old = out / "feedback"
        if old.exists():
            os.replace(old, staging / "feedback.old")
        os.replace(staging / "feedback", old)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {"csv": out / "scores.csv", "json": out / "scores.json", "feedback": out / "feedback",
            "run": out / "grading.json"}


def _report_from_dict(data: dict) -> GradeReport:
    fields = {f.name for f in dataclasses.fields(GradeReport)}
    report = GradeReport(**{k: v for k, v in data.items() if k in fields and k != "tests"})
    report.tests = [TestResult(**t) for t in data.get("tests", [])]
    return report


def load_outputs(folder: Path) -> BatchResult:
    """The results a ``course grade`` run wrote to ``folder`` (its ``grading.json`` and ``scores.json``)."""
    try:
        info = json.loads((folder / "grading.json").read_text())
        scores = json.loads((folder / "scores.json").read_text())
    except FileNotFoundError as exc:
        raise CourseError(f"{folder} is not the output of `course grade` ({exc.filename} is missing)") from None
    except ValueError as exc:
        raise CourseError(f"{folder}: a file of `course grade` is not valid JSON ({exc})") from None
    students = []
    for name in info["students"]:
        entry = scores[name]
        st = StudentResult(name, {slug: _report_from_dict(r) for slug, r in entry["lessons"].items()},
                           entry.get("regraded", False))
        students.append(st)
    shard = tuple(int(x) for x in info["shard"].split("/")) if info.get("shard") else None
    return BatchResult(students, list(info["lessons"]), 0, isolation=info["isolation"], shard=shard,
                       course_digest=info.get("course_digest", ""))


def merge_outputs(folders: list[Path]) -> BatchResult:
    """The shards' results as one run: every share 1..N present once, graded the same way."""
    parts = [load_outputs(f) for f in folders]
    if not parts:
        raise CourseError("course grade merge needs the output folders of the shards")
    first = parts[0]
    problems = []
    for folder, part in zip(folders, parts):
        if part.shard is None:
            problems.append(f"{folder} was not graded with --shard")
        elif first.shard and part.shard[1] != first.shard[1]:
            problems.append(f"{folder} is share {part.shard[0]}/{part.shard[1]}, the first is of {first.shard[1]}")
        if part.lessons != first.lessons:
            problems.append(f"{folder} graded lessons {part.lessons}, the first {first.lessons}")
        if part.course_digest != first.course_digest:
            problems.append(f"{folder} was graded with other tests or another course version")
        if part.isolation != first.isolation:
            problems.append(f"{folder} was graded with isolation {part.isolation}, the first with {first.isolation}")
    if first.shard:
        seen = sorted(p.shard[0] for p in parts if p.shard)
        missing = sorted(set(range(1, first.shard[1] + 1)) - set(seen))
        twice = sorted({k for k in seen if seen.count(k) > 1})
        if missing:
            problems.append("missing share(s) " + ", ".join(f"{k}/{first.shard[1]}" for k in missing))
        if twice:
            problems.append("share(s) given twice: " + ", ".join(map(str, twice)))
    names = [st.student for p in parts for st in p.students]
    if len(names) != len(set(names)):
        problems.append("a student appears in more than one share")
    if problems:
        raise CourseError("cannot merge: " + "; ".join(problems))
    students = sorted((st for p in parts for st in p.students), key=lambda st: st.student)
    return BatchResult(students, first.lessons, 0, isolation=first.isolation, shard=None,
                       course_digest=first.course_digest)
