"""What a learner reads after a check: every failing test explains itself, the course's progress at a glance.

Used by ``course check`` (a whole lesson) and ``course watch`` (one exercise).
Each failing exercise gets one block: every failing public test with what it
expects (its docstring) and what it got (the first line of its failure), then the
exercise's hint and the lesson section to read. A hidden test shows only that it
failed: its details stay with the grader.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from ..exercises.meta import Course, Lesson
from ..i18n import _, exercise_hints, exercise_title, expected_text, lesson_text, page_language_path
from ..exercises.progress import Progress
from ..grading.runner import GradeReport, TestResult


def first_line(test: TestResult) -> str:
    """What the test got: the first non-empty line of its failure, at most 400 characters."""
    line = next((line for line in test.message.splitlines() if line.strip()), test.outcome)
    return line if len(line) <= 400 else line[:399] + "…"


def _indented(console: Console, text: str, indent: int, style: str = "") -> None:
    console.print(Padding(Text(text, style=style), (0, 0, 0, indent), expand=False))


def print_exercise_failures(console: Console, report: GradeReport, lesson: Lesson, exercise_id: str) -> None:
    """One exercise's failing tests, each with expected and got, then its hint and section."""
    ex = next(e for e in lesson.exercises if e.id == exercise_id)
    tests = [t for t in report.tests if t.exercise == exercise_id]
    failing = [t for t in tests if t.outcome != "passed"]
    if not failing:
        return
    summary = report.exercises()[exercise_id]
    title = exercise_title(course_root(), ex)
    console.print(f"\n[red]✗ {ex.id}[/] [bold]{escape(title)}[/]  "
                  + _("{points}/{max_points} points, {failing} of {tests} tests failing",
                      points=summary['points'], max_points=summary['max_points'], failing=len(failing),
                      tests=len(tests)))
    previous = None
    hidden = [t for t in failing if t.hidden]
    for t in failing:
        if t.hidden:
            continue
        console.print(Padding(Text.assemble(("✗ ", "red"), (t.name, "bold")), (0, 0, 0, 2), expand=False))
        if t.expected:
            _indented(console, _("expected: {what}", what=expected_text(course_root(), lesson.short, t.name,
                                                                       t.expected)), 4)
        got = first_line(t)
        _indented(console, _("got: the same") if got == previous else _("got: {what}", what=got), 4)
        previous = got
    if hidden:
        what = (_("✗ 1 hidden test failed: hidden tests show no details; the public ones and the lesson say what "
                  "they check") if len(hidden) == 1 else
                _("✗ {n} hidden tests failed: hidden tests show no details; the public ones and the lesson say "
                  "what they check", n=len(hidden)))
        _indented(console, what, 2)
    hint = next((t.hint for t in failing if t.hint), "")
    if hint:
        hints = dict(zip(ex.hints, exercise_hints(course_root(), ex)))
        _indented(console, _("hint: {hint}", hint=hints.get(hint, hint)), 2)
    _indented(console, _("read: {where}", where=section_url(lesson, ex)), 2)


def course_root():
    """The course folder (where course.toml's companions in other languages, course.LANG.toml, are)."""
    from ..exercises.meta import find_root
    return find_root()


def section_url(lesson: Lesson, ex) -> str:
    """Where to read about an exercise: its section of the lesson page, translated when the page is."""
    return page_language_path(lesson.section_url(ex))


def print_report(console: Console, report: GradeReport, lesson: Lesson) -> None:
    """A whole lesson's check: a table of its tests, then every failing exercise explained."""
    title = lesson_text(course_root(), lesson, "title")
    table = Table(title=f"{lesson.short} {title}: {report.target}")
    for col in ("", _("test"), _("exercise"), _("points")):
        table.add_column(col, overflow="fold")
    for t in report.tests:
        mark = "[green]✓[/]" if t.outcome == "passed" else ("[yellow]…[/]" if t.outcome == "skipped" else "[red]✗[/]")
        table.add_row(mark, escape(t.name), t.exercise, f"{t.points}/{t.max_points}")
    console.print(table)
    for ex_id in dict.fromkeys(t.exercise for t in report.tests):
        print_exercise_failures(console, report, lesson, ex_id)
    print_collect_errors(console, report)


def print_collect_errors(console: Console, report: GradeReport) -> None:
    """Test files that could not be loaded (a syntax error in the exercise, a missing import)."""
    for err in report.collect_errors:
        console.print("\n" + _("[red]could not load[/] {where}:", where=escape(err['where']))
                      + f"\n{escape(err['message'][-800:])}")


def progress_line(course: Course, progress: Progress, width: int = 30) -> Text:
    """The course-wide progress bar: points earned at the last checks and exercises passed.

    Drawn with characters rather than colours only, so it reads the same in a log or a pipe."""
    points, total = progress.course_points(course)
    exercises = course.exercises_in_order()
    passed = sum(1 for ex in exercises if progress.passed.get(ex.id))
    filled = round(width * points / total) if total else 0
    return Text.assemble(("━" * filled, "green"), ("─" * (width - filled), "dim"),
                         " " + _("{points}/{total} points, {passed}/{exercises} exercises passed", points=points,
                                 total=total, passed=passed, exercises=len(exercises)))


def print_next_steps(console: Console, report: GradeReport, lesson: Lesson, newly: list[str]) -> None:
    """After a check: what passed for the first time and where its reference is, or how to get unstuck."""
    colour = "green" if report.passed else "yellow"
    console.print(f"\n[{colour}]" + _("{points}/{max_points} points", points=report.points,
                                       max_points=report.max_points) + "[/]")
    if newly:
        console.print(_("Passed: {ids}. Compare with the reference: [bold]course solution {first}[/]",
                        ids=", ".join(newly), first=newly[0])
                      + (_(" (and the others by id)") if len(newly) > 1 else ""))
    elif report.passed:
        ids = list(report.exercises())
        which = ids[0] if len(ids) == 1 else lesson.short
        console.print(_("All passed. Compare with the reference: [bold]course solution {which}[/]", which=which))
    if not report.passed:
        console.print(_("Stuck? [bold]course hint[/] shows the next hint; "
                        "[bold]course watch[/] re-checks the exercise each time you save it."))

