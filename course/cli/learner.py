"""Learner verbs: lessons, check, hint, solution, reset, progress; and `exercises build`."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from ..exercises.generate import build, lesson_files, out_of_sync, write_lesson
from ..exercises.meta import Course, CourseError, Lesson, load_course
from ..exercises.progress import Progress
from ..grading.runner import grade_lesson
from .main import cli, console, friendly_errors, print_json, spinner


def _next_lesson(course: Course, progress: Progress) -> Lesson:
    for lesson in course.lessons:
        if not all(progress.passed.get(ex.id) for ex in lesson.exercises):
            return lesson
    return course.lessons[-1]


def _first_unfinished(lesson: Lesson, progress: Progress):
    return next((ex for ex in lesson.exercises if not progress.passed.get(ex.id)), None)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@friendly_errors
def lessons(as_json: bool) -> None:
    """List the lessons and exercises with your progress."""
    course = load_course()
    progress = Progress.load(course)
    rows = [
        {"lesson": l.slug, "short": l.short, "title": l.title,
         "exercises": [{"id": e.id, "title": e.title, "file": f"exercises/{l.slug}/{e.file}",
                        "points": e.max_points, "passed": bool(progress.passed.get(e.id))} for e in l.exercises]}
        for l in course.lessons
    ]
    if as_json:
        print_json(rows)
        return
    table = Table(title=course.title)
    for col in ("", "exercise", "title", "file", "points"):
        table.add_column(col)
    for lesson, row in zip(course.lessons, rows):
        table.add_row("", f"[bold]{lesson.short}[/]", f"[bold]{escape(lesson.title)}[/]", lesson.page, "")
        for ex in row["exercises"]:
            table.add_row("[green]✓[/]" if ex["passed"] else "·", ex["id"], escape(ex["title"]), ex["file"],
                          str(ex["points"]))
    for lesson in course.planned:
        table.add_row("", f"[dim]{lesson.short}[/]", f"[dim]{escape(lesson.title)}[/]", "[dim]coming[/]", "")
    console.print(table)
    console.print("Start with [bold]course check[/]: it grades the next unfinished lesson.")


def _print_report(report, lesson: Lesson) -> None:
    table = Table(title=f"{lesson.short} {lesson.title}: {report.target}")
    for col in ("", "test", "exercise", "points"):
        table.add_column(col)
    for t in report.tests:
        mark = "[green]✓[/]" if t.outcome == "passed" else ("[yellow]…[/]" if t.outcome == "skipped" else "[red]✗[/]")
        table.add_row(mark, escape(t.name), t.exercise, f"{t.points}/{t.max_points}")
    console.print(table)
    failures = [t for t in report.tests if t.outcome != "passed"]
    shown = set()
    for t in failures:
        if t.exercise in shown:
            continue  # one explanation per exercise keeps the screen readable
        shown.add(t.exercise)
        console.print(f"\n[red]✗ {t.exercise}[/] [bold]{escape(t.name)}[/]")
        if t.expected and not t.hidden:
            console.print(f"  expected: {escape(t.expected)}")
        got = next((line for line in t.message.splitlines() if line.strip()), t.outcome)
        console.print(f"  got: {escape(got[:400])}")
        console.print(f"  hint: {escape(t.hint)}")
        console.print(f"  read: {t.section}")
    for err in report.collect_errors:
        console.print(f"\n[red]could not load[/] {escape(err['where'])}:\n{escape(err['message'][-800:])}")
    colour = "green" if report.passed else "yellow"
    console.print(f"\n[{colour}]{report.points}/{report.max_points} points[/]")
    if report.passed:
        console.print(f"All done. Compare with the reference: [bold]course solution {lesson.short}[/]")
    elif failures:
        console.print("Stuck? [bold]course hint[/] shows the next hint.")


@cli.command()
@click.argument("lesson", required=False)
@click.option("--target", default="exercises", show_default=True,
              help="what to grade: exercises, solutions, or a submission folder")
@click.option("--exercise", "exercise", default=None, help="grade one exercise only, e.g. l00.3")
@click.option("--public-only", is_flag=True, help="skip the hidden tests")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object (exit 0 whether or not tests pass)")
@friendly_errors
def check(lesson: str | None, target: str, exercise: str | None, public_only: bool, as_json: bool) -> None:
    """Grade a lesson (default: the next unfinished one)."""
    course = load_course()
    progress = Progress.load(course)
    chosen = course.lesson(lesson) if lesson else _next_lesson(course, progress)
    if exercise:
        course.exercise(exercise)  # a clear error for an unknown id
    with spinner(f"grading {chosen.slug} ({target}) ...", quiet=as_json):
        report = grade_lesson(chosen, target, hidden=not public_only, exercise=exercise, course=course)
    if target == "exercises" and not exercise:
        progress.record(report)
        progress.save()
    if as_json:
        print_json(report.to_dict())
    else:
        _print_report(report, chosen)


@cli.command()
@click.argument("exercise", required=False)
@friendly_errors
def hint(exercise: str | None) -> None:
    """Show the next hint for an exercise (default: the first unfinished one)."""
    course = load_course()
    progress = Progress.load(course)
    if exercise:
        ex = course.exercise(exercise)
    else:
        lesson = _next_lesson(course, progress)
        ex = _first_unfinished(lesson, progress)
        if ex is None:
            console.print("Every exercise has passed its check. Nothing left to hint at.")
            return
    if not ex.hints:
        console.print(f"{ex.id} has no hints; read {course.lesson(ex.lesson).section_url(ex)}")
        return
    index = progress.next_hint(ex.id, len(ex.hints))
    progress.save()
    console.print(f"[bold]{ex.id} {escape(ex.title)}[/]  hint {index + 1}/{len(ex.hints)}")
    console.print(escape(ex.hints[index]))
    console.print(f"read: {course.lesson(ex.lesson).section_url(ex)}")


@cli.command()
@click.argument("lesson")
@friendly_errors
def solution(lesson: str) -> None:
    """Show the reference solution of a lesson, once its check has passed."""
    course = load_course()
    chosen = course.lesson(lesson)
    progress = Progress.load(course)
    missing = [ex.id for ex in chosen.exercises if not progress.passed.get(ex.id)]
    if missing:
        score = progress.scores.get(chosen.slug)
        raise CourseError(
            f"solutions are shown once your check passes; still open: {', '.join(missing)}"
            + (f" (last check: {score[0]}/{score[1]} points)" if score else "")
            + f". Run `course check {chosen.short}`."
        )
    from rich.syntax import Syntax

    for ex_file in dict.fromkeys(ex.file for ex in chosen.exercises):
        path = course.solutions_dir / chosen.slug / ex_file
        console.rule(f"solutions/{chosen.slug}/{ex_file}")
        console.print(Syntax(path.read_text(), "python", line_numbers=True))


@cli.command()
@click.argument("lesson")
@click.option("--file", "file", default=None, help="reset one file only, e.g. agent.py")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@friendly_errors
def reset(lesson: str, file: str | None, yes: bool) -> None:
    """Restore a lesson's exercises to their starting state (your version is backed up first)."""
    course = load_course()
    chosen = course.lesson(lesson)
    generated = lesson_files(course, chosen)
    if file and file not in generated:
        raise CourseError(f"{chosen.slug} has no file {file}; its files are {', '.join(generated)}")
    what = f"exercises/{chosen.slug}/{file}" if file else f"exercises/{chosen.slug}/"
    if not yes and not click.confirm(f"Reset {what}? Your current version is kept in .course/backups/"):
        return
    src = course.exercises_dir / chosen.slug
    backup = course.root / ".course" / "backups" / time.strftime("%Y%m%d-%H%M%S") / chosen.slug
    if src.exists():
        shutil.copytree(src, backup, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
    if file:
        (src / file).write_text(generated[file])
    else:
        write_lesson(course, chosen)
    console.print(f"Reset {what}. Your previous version: {backup.relative_to(course.root)}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@friendly_errors
def progress(as_json: bool) -> None:
    """Show points per lesson from your last checks."""
    course = load_course()
    prog = Progress.load(course)
    rows = []
    for lesson in course.lessons:
        done = sum(1 for ex in lesson.exercises if prog.passed.get(ex.id))
        score = prog.scores.get(lesson.slug)
        rows.append({"lesson": lesson.slug, "exercises_passed": done, "exercises": len(lesson.exercises),
                     "points": score[0] if score else None, "max_points": score[1] if score else None})
    if as_json:
        print_json(rows)
        return
    table = Table(title="Your progress")
    for col in ("lesson", "exercises passed", "points (last check)"):
        table.add_column(col)
    for r in rows:
        pts = f"{r['points']}/{r['max_points']}" if r["points"] is not None else "not checked yet"
        table.add_row(r["lesson"], f"{r['exercises_passed']}/{r['exercises']}", pts)
    console.print(table)


@cli.group()
def exercises() -> None:
    """Instructor verbs for the exercise pipeline."""


@exercises.command("build")
@click.option("--check", "check_only", is_flag=True, help="only report files out of sync; exit 1 if any")
@friendly_errors
def exercises_build(check_only: bool) -> None:
    """Generate exercises/ from solutions/ (stubs where the solution regions are)."""
    course = load_course()
    if check_only:
        stale = out_of_sync(course)
        for path in stale:
            console.print(f"out of sync: {path}")
        if stale:
            raise SystemExit(1)
        console.print("exercises/ is in sync with solutions/")
        return
    written = build(course)
    console.print(f"wrote {len(written)} files under exercises/")


@cli.command()
@click.argument("submissions", type=click.Path(file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="where to write scores.csv, scores.json and feedback/ (default: SUBMISSIONS/../grades)")
@click.option("--lesson", "lessons", multiple=True, help="grade only these lessons (default: all)")
@click.option("--workers", default=2, show_default=True, help="submissions graded at once")
@click.option("--test-timeout", default=60.0, show_default=True, help="seconds one test may run")
@click.option("--submission-timeout", default=600.0, show_default=True, help="seconds one lesson's tests may run")
@click.option("--memory-mb", default=4096, show_default=True, help="address-space limit of each test process")
@click.option("--json", "as_json", is_flag=True, help="print the scores as JSON")
@friendly_errors
def grade(submissions: Path, out: Path | None, lessons: tuple[str, ...], workers: int, test_timeout: float,
          submission_timeout: float, memory_mb: int, as_json: bool) -> None:
    """Grade a folder of submissions (one sub-folder per student), with no Jupyter."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from ..grading.batch import discover, grade_batch, write_outputs
    from ..grading.supervisor import Limits

    course = load_course()
    try:
        students = discover(submissions)
    except FileNotFoundError as exc:
        raise CourseError(str(exc)) from None
    chosen = list(lessons) or [l.slug for l in course.lessons]
    limits = Limits(test_s=test_timeout, submission_s=submission_timeout, memory_mb=memory_mb)
    total = len(students) * len(chosen)
    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=as_json, disable=as_json) as bar:
        task = bar.add_task(f"grading {len(students)} submissions", total=total)
        result = grade_batch(submissions, course=course, lessons=chosen, workers=workers, limits=limits,
                             progress=lambda student, lesson: bar.advance(task))
    paths = write_outputs(result, out or submissions.resolve().parent / "grades", course)
    if as_json:
        print_json(json.loads(paths["json"].read_text()))
        return
    table = Table(title=f"{len(students)} submissions, {result.seconds:.1f} s with {workers} workers")
    table.add_column("student")
    for slug in result.lessons:
        table.add_column(course.lesson(slug).short)
    table.add_column("total")
    table.add_column("notes")
    for st in result.students:
        notes = sorted({n for r in st.reports.values() for n in r.notes})
        table.add_row(st.student, *[f"{st.reports[s].points}/{st.reports[s].max_points}" for s in result.lessons],
                      f"{st.points}/{st.max_points}", escape("; ".join(notes))[:120])
    console.print(table)
    console.print(f"scores: {paths['csv']}  {paths['json']}\nfeedback: {paths['feedback']}/<student>.md")
