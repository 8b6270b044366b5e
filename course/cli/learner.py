"""Learner verbs: lessons, check, hint, solution, reset, progress (watch is in :mod:`.watch`); and
`exercises build`, `grade`."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import click
from rich import box
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ..exercises.generate import build, lesson_files, out_of_sync, write_lesson
from ..exercises.meta import Course, CourseError, Exercise, Lesson, load_course
from ..exercises.progress import Progress
from ..exercises.reveal import exercise_solution
from ..grading.runner import grade_lesson
from ..i18n import _, exercise_hints, exercise_title, language, lesson_text, site_text
from .feedback import print_next_steps, print_report, progress_line, section_url
from .main import cli, console, friendly_errors, lang_option, print_json, spinner


def limits_options(func):
    """The limits `course check` and `course grade` share, so that a check grades as the instructor will."""
    options = [
        click.option("--test-timeout", default=60.0, show_default=True, help="seconds one test may run"),
        click.option("--real-model-timeout", default=300.0, show_default=True,
                     help="seconds one test that runs a real model may run (a loaded machine is slow)"),
        click.option("--submission-timeout", default=600.0, show_default=True,
                     help="seconds one lesson's tests may run"),
        click.option("--memory-mb", default=4096, show_default=True,
                     help="address-space limit of the tests' process and of the submission's"),
        click.option("--no-isolation", is_flag=True,
                     help="run submissions without bubblewrap (warned about in every output): only where it "
                          "cannot be installed"),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def make_limits(test_timeout: float, real_model_timeout: float, submission_timeout: float, memory_mb: int,
                no_isolation: bool, required: bool):
    """Limits from the shared options; ``required``: grading other people's code, so bubblewrap or an explicit
    --no-isolation."""
    from ..grading.isolation import bwrap_problem
    from ..grading.supervisor import Limits

    if no_isolation:
        isolation = "process"
    elif required:
        problem = bwrap_problem()
        if problem:
            raise CourseError(f"grading other people's code needs isolation, and {problem}. Install it "
                              "(sudo apt-get install bubblewrap), or pass --no-isolation to grade without it "
                              "(every output then says so)")
        isolation = "bwrap"
    else:
        isolation = "auto"
    return Limits(test_s=test_timeout, submission_s=submission_timeout, memory_mb=memory_mb,
                  real_model_s=real_model_timeout, isolation=isolation)


def _target(course: Course, progress: Progress, name: str | None) -> tuple[Lesson, Exercise | None]:
    """What a learner verb is about: the lesson or exercise named (``l00``, ``l00.1``), or by default the
    current exercise (the first one that has not passed) and its lesson."""
    if name:
        return course.find(name)
    current = progress.current(course)
    if current is None:
        return course.lessons[-1], None
    return course.lesson(current.lesson), current


def _passed_mark(progress: Progress, ex_id: str, current: Exercise | None) -> str:
    if progress.passed.get(ex_id):
        return "[green]✓[/]"
    if current is not None and current.id == ex_id:
        return "[bold cyan]▶[/]"
    return "[red]✗[/]" if ex_id in progress.passed else "·"


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@friendly_errors
@lang_option
def lessons(as_json: bool) -> None:
    """List the lessons and exercises with your progress."""
    course = load_course()
    progress = Progress.load(course)
    current = progress.current(course)
    rows = [
        {"lesson": l.slug, "short": l.short, "title": l.title,
         "exercises": [{"id": e.id, "title": e.title, "file": f"exercises/{l.slug}/{e.file}",
                        "points": e.max_points, "passed": bool(progress.passed.get(e.id)),
                        "points_earned": progress.points.get(e.id, [None])[0]} for e in l.exercises]}
        for l in course.lessons
    ]
    if as_json:
        print_json(rows)
        return
    # Paths are shortened to the file name (the legend says where files live) so the table fits 80 columns.
    table = Table(title=site_text(course.root, language(), "site_name", course.title), box=box.SIMPLE_HEAD,
                  pad_edge=False)
    table.add_column("", no_wrap=True)
    table.add_column("id", no_wrap=True)
    table.add_column(_("title"), overflow="fold", ratio=1)
    table.add_column(_("file"), no_wrap=True)
    table.add_column(_("points"), justify="right", no_wrap=True)
    for lesson in course.all_lessons:
        title = lesson_text(course.root, lesson, "title")
        if not lesson.ready:
            table.add_row("", f"[dim]{lesson.short}[/]", f"[dim]{escape(title)}[/]", "[dim]" + _("planned") + "[/]", "")
            continue
        score = progress.lesson_score(lesson)
        total = sum(ex.max_points for ex in lesson.exercises)
        done = sum(1 for ex in lesson.exercises if progress.passed.get(ex.id))
        table.add_row("", f"[bold]{lesson.short}[/]", f"[bold]{escape(title)}[/]",
                      _("{done}/{total} passed", done=done, total=len(lesson.exercises)),
                      f"{score[0] if score else '-'}/{total}")
        for ex in lesson.exercises:
            earned = progress.points.get(ex.id)
            table.add_row(_passed_mark(progress, ex.id, current), ex.id, escape(exercise_title(course.root, ex)),
                          ex.file, f"{earned[0] if earned else '-'}/{ex.max_points}")
    console.print(table)
    console.print(progress_line(course, progress))
    console.print(_("[green]✓[/] passed  [red]✗[/] failed its last check  · not checked yet  [bold cyan]▶[/] current")
                  + "\n" + _("points: at the last check / in all (- not checked yet)  [dim]planned[/]: not written yet"))
    console.print(_("Files: exercises/<lesson>/<file>. Pages: lessons/<lesson>/index.md."))
    if current is not None:
        console.print(_("Next: [bold]course watch[/] (re-checks {id} each time you save {file}), or "
                        "[bold]course check {id}[/].", id=current.id, file=current.file))


@cli.command()
@click.argument("lesson", required=False, metavar="[LESSON|EXERCISE]")
@click.option("--target", default="exercises", show_default=True,
              help="what to grade: exercises, solutions, or a submission folder")
@click.option("--exercise", "exercise", default=None, help="grade one exercise only, e.g. l00.3")
@click.option("--public-only", is_flag=True, help="skip the hidden tests (such a check is not recorded)")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object (exit 0 whether or not tests pass)")
@limits_options
@friendly_errors
@lang_option
def check(lesson: str | None, target: str, exercise: str | None, public_only: bool, as_json: bool,
          test_timeout: float, real_model_timeout: float, submission_timeout: float, memory_mb: int,
          no_isolation: bool) -> None:
    """Grade a lesson or one exercise (default: the lesson of the current exercise).

    A --target folder (someone else's code) runs under bubblewrap, as `course grade` does."""
    course = load_course()
    limits = make_limits(test_timeout, real_model_timeout, submission_timeout, memory_mb, no_isolation,
                         required=target not in ("exercises", "solutions"))
    progress = Progress.load(course)
    if exercise:
        chosen, one = course.find(exercise)
        if one is None or (lesson and course.find(lesson)[0] != chosen):
            raise CourseError(f"--exercise takes an exercise of the lesson checked, such as {chosen.short}.1")
    else:
        chosen, one = course.find(lesson) if lesson else (_target(course, progress, None)[0], None)
    with spinner(f"grading {one.id if one else chosen.slug} ({target}) ...", quiet=as_json):
        report = grade_lesson(chosen, target, hidden=not public_only, exercise=one.id if one else None,
                              course=course, limits=limits)
    if limits.isolation == "process" and target not in ("exercises", "solutions"):
        from ..grading.batch import NO_ISOLATION_WARNING

        report.notes.insert(0, NO_ISOLATION_WARNING)
    newly = []
    if target == "exercises" and not public_only:
        newly = progress.record(report)
        progress.save()
    if as_json:
        print_json(report.to_dict())
        return
    print_report(console, report, chosen)
    if target != "exercises":
        console.print("\n" + _("{points}/{max_points} points", points=report.points, max_points=report.max_points))
        return
    print_next_steps(console, report, chosen, newly)
    if public_only:
        console.print(_("(--public-only: not recorded in your progress)"))
    console.print(progress_line(course, progress))


@cli.command()
@click.argument("name", required=False, metavar="[EXERCISE|LESSON]")
@friendly_errors
@lang_option
def hint(name: str | None) -> None:
    """Show the next hint for an exercise (default: the current one; a lesson: its first unfinished one)."""
    course = load_course()
    progress = Progress.load(course)
    lesson, ex = _target(course, progress, name)
    if ex is None:
        ex = progress.first_unfinished(lesson.exercises)
        if ex is None:
            console.print(_("Every exercise of {lesson} has passed. Compare with the reference: "
                            "[bold]course solution {lesson}[/]", lesson=lesson.short))
            return
    section = section_url(lesson, ex)
    index = progress.next_hint(ex.id, len(ex.hints))
    progress.save()
    if index is None:
        _after_last_hint(course, progress, lesson, ex)
        return
    console.print(f"[bold]{ex.id} {escape(exercise_title(course.root, ex))}[/]  "
                  + _("hint {n}/{total}", n=index + 1, total=len(ex.hints)))
    console.print(escape(exercise_hints(course.root, ex)[index]))
    console.print(_("read: {where}", where=section))


def _after_last_hint(course: Course, progress: Progress, lesson: Lesson, ex: Exercise) -> None:
    """No hint left: say what to do next instead of repeating the last one."""
    section = section_url(lesson, ex)
    if progress.passed.get(ex.id):
        console.print(_("{id} has passed. Compare your code with the reference: [bold]course solution {id}[/]",
                        id=ex.id))
        return
    title = escape(exercise_title(course.root, ex))
    if ex.hints:
        console.print(_("You have seen all {n} hints of [bold]{id} {title}[/]. Next:", n=len(ex.hints), id=ex.id,
                        title=title))
    else:
        console.print(_("You have seen the hints (it has none) of [bold]{id} {title}[/]. Next:", id=ex.id, title=title))
    failing = progress.failing.get(ex.id)
    if failing:
        console.print("  1. " + _("your last check failed {tests}: [bold]course check {id}[/] says what each "
                                  "expected and got", tests=", ".join(failing), id=ex.id))
    else:
        console.print("  1. " + _("run [bold]course check {id}[/]: each failing test says what it expected and got",
                                  id=ex.id))
    console.print("  2. " + _("read {where}", where=section))
    console.print("  3. " + _("once it passes, [bold]course solution {id}[/] shows the reference beside your code",
                              id=ex.id))


@cli.command()
@click.argument("name", required=False, metavar="[EXERCISE|LESSON]")
@friendly_errors
@lang_option
def solution(name: str | None) -> None:
    """Show an exercise's reference beside your code, once it passes (default: the one that passed last)."""
    course = load_course()
    progress = Progress.load(course)
    if name:
        lesson, one = course.find(name)
    elif progress.last_passed and progress.passed.get(progress.last_passed):
        lesson, one = course.find(progress.last_passed)
    else:
        current = progress.current(course)
        raise CourseError("solutions unlock one exercise at a time, once its check passes; none has passed yet"
                          + (f". The current exercise is {current.id}: run `course check {current.id}`"
                             if current else ""))
    wanted = [one] if one else list(lesson.exercises)
    shown = [ex for ex in wanted if progress.passed.get(ex.id)]
    locked = [ex for ex in wanted if not progress.passed.get(ex.id)]
    if not shown:
        last = progress.points.get(one.id) if one else progress.lesson_score(lesson)
        raise CourseError(
            f"solutions are shown once their check passes; still open: {', '.join(ex.id for ex in locked)}"
            + (f" (last check: {last[0]}/{last[1]} points)" if last else "")
            + f". Run `course check {one.id if one else lesson.short}`."
        )
    for ex in shown:
        _print_solution(course, ex)
    if locked:
        console.print(f"\nStill locked (not passed yet): {', '.join(ex.id for ex in locked)}.")


def _print_solution(course: Course, ex: Exercise) -> None:
    from rich.syntax import Syntax

    console.rule(f"{ex.id} {escape(ex.title)}")
    for part in exercise_solution(course, ex):
        if not part.diff:
            console.print(f"{part.function}() in {part.learner_file} is the reference, line for line:")
            console.print(Syntax(part.reference, "python", word_wrap=True))
            continue
        if not part.learner_has_it:
            console.print(f"{part.function}() is not in {part.learner_file} (or the file does not parse); "
                          "the reference:")
        else:
            console.print(f"{part.function}(): [red]-[/] your line, [green]+[/] the reference's")
        diff = Text()
        for line in part.diff.splitlines():
            style = {"-": "red", "+": "green", "@": "cyan"}.get(line[:1], "")
            diff.append(line + "\n", style="bold " + style if line[:3] in ("---", "+++") else style)
        console.print(diff, end="", soft_wrap=True)


@cli.command()
@click.argument("name", metavar="LESSON|EXERCISE")
@click.option("--file", "file", default=None, help="reset one file only, e.g. agent.py")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@friendly_errors
@lang_option
def reset(name: str, file: str | None, yes: bool) -> None:
    """Restore a lesson's exercises (or one exercise's file) to their start; yours is backed up first."""
    course = load_course()
    chosen, one = course.find(name)
    generated = lesson_files(course, chosen)
    if one is not None:
        if file and file != one.file:
            raise CourseError(f"{one.id} is in {one.file}, not {file}")
        file = one.file
    if file and file not in generated:
        raise CourseError(f"{chosen.slug} has no file {file}; its files are {', '.join(generated)}")
    what = f"exercises/{chosen.slug}/{file}" if file else f"exercises/{chosen.slug}/"
    cleared = [ex.id for ex in chosen.exercises if file is None or ex.file == file]
    if not yes and not click.confirm(f"Reset {what} ({', '.join(cleared)})? "
                                     "Your current version is kept in .course/backups/"):
        return
    src = course.exercises_dir / chosen.slug
    backup = course.root / ".course" / "backups" / time.strftime("%Y%m%d-%H%M%S") / chosen.slug
    if src.exists():
        shutil.copytree(src, backup, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
    if file:
        (src / file).write_text(generated[file])
    else:
        write_lesson(course, chosen)
    progress = Progress.load(course)
    progress.forget(cleared)
    progress.save()
    console.print(f"Reset {what}: {', '.join(cleared)} start{'s' if len(cleared) == 1 else ''} again "
                  "(recorded results cleared).")
    console.print(f"Your previous version: {backup.relative_to(course.root)}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@friendly_errors
@lang_option
def progress(as_json: bool) -> None:
    """Show points per lesson from your last checks."""
    course = load_course()
    prog = Progress.load(course)
    rows = []
    for lesson in course.lessons:
        done = sum(1 for ex in lesson.exercises if prog.passed.get(ex.id))
        score = prog.lesson_score(lesson)
        rows.append({"lesson": lesson.slug, "exercises_passed": done, "exercises": len(lesson.exercises),
                     "points": score[0] if score else None,
                     "max_points": sum(ex.max_points for ex in lesson.exercises)})
    if as_json:
        print_json(rows)
        return
    table = Table(title="Your progress")
    for col in ("lesson", "exercises passed", "points (last checks)"):
        table.add_column(col)
    for r in rows:
        pts = f"{r['points']}/{r['max_points']}" if r["points"] is not None else "not checked yet"
        table.add_row(r["lesson"], f"{r['exercises_passed']}/{r['exercises']}", pts)
    console.print(table)
    console.print(progress_line(course, prog))


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
@click.argument("submissions", nargs=-1, metavar="SUBMISSIONS | merge OUTPUT...")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="where to write scores.csv, scores.json, grading.json and feedback/ "
                   "(default: SUBMISSIONS/../grades)")
@click.option("--lesson", "lessons", multiple=True, help="grade only these lessons (default: all)")
@click.option("--workers", default=2, show_default=True, help="submissions graded at once")
@click.option("--shard", default=None, metavar="K/N",
              help="grade share K of N of the students (by a hash of their names); `course grade merge` joins them")
@limits_options
@click.option("--json", "as_json", is_flag=True, help="print the scores as JSON")
@friendly_errors
def grade(submissions: tuple[str, ...], out: Path | None, lessons: tuple[str, ...], workers: int, shard: str | None,
          test_timeout: float, real_model_timeout: float, submission_timeout: float, memory_mb: int,
          no_isolation: bool, as_json: bool) -> None:
    """Grade a folder of submissions (one sub-folder per student), with no Jupyter.

    Every submission runs under bubblewrap. `course grade merge OUT1 OUT2 ... --out DIR` joins the outputs of
    `--shard K/N` runs into the files one run would have written."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from ..grading.batch import discover, grade_batch, in_shard, merge_outputs, parse_shard, write_outputs

    if submissions and submissions[0] == "merge":
        folders = [Path(p) for p in submissions[1:]]
        if not folders or out is None:
            raise CourseError("usage: course grade merge SHARD_OUTPUT... --out FOLDER")
        merged = merge_outputs(folders)
        paths = write_outputs(merged, out, load_course())
        console.print(f"merged {len(folders)} shards, {len(merged.students)} students\n"
                      f"scores: {paths['csv']}  {paths['json']}\nfeedback: {paths['feedback']}/<student>.md")
        if merged.warning:
            console.print(f"[bold red]{merged.warning}[/]")
        return
    if len(submissions) != 1:
        raise CourseError("give one folder of submissions (one sub-folder per student), or: course grade merge ...")
    submissions = Path(submissions[0])
    chosen_shard = parse_shard(shard) if shard else None
    limits = make_limits(test_timeout, real_model_timeout, submission_timeout, memory_mb, no_isolation,
                         required=True)
    course = load_course()
    try:
        students = [s for s in discover(submissions) if in_shard(s[0], chosen_shard)]
    except FileNotFoundError as exc:
        raise CourseError(str(exc)) from None
    chosen = list(lessons) or [l.slug for l in course.lessons]
    total = len(students) * len(chosen)
    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=as_json, disable=as_json) as bar:
        task = bar.add_task(f"grading {len(students)} submissions", total=total)
        result = grade_batch(submissions, course=course, lessons=chosen, workers=workers, limits=limits,
                             progress=lambda student, lesson: bar.advance(task), shard=chosen_shard)
    paths = write_outputs(result, out or submissions.resolve().parent / "grades", course)
    if as_json:
        print_json(json.loads(paths["json"].read_text()))
        return
    how = "each under bubblewrap" if result.isolation == "bwrap" else "WITHOUT isolation"
    share = f", share {chosen_shard[0]}/{chosen_shard[1]}" if chosen_shard else ""
    table = Table(title=f"{len(students)} submissions{share}, {result.seconds:.1f} s with {workers} workers, {how}")
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
    if result.warning:
        console.print(f"[bold red]{result.warning}[/]")
