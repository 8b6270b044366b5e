"""``course watch``: one exercise at a time, re-checked each time its file is saved (as rustlings' watch mode).

It polls the exercise file's status (modification time, size, inode) twice a
second, which needs no dependency and sees an editor's atomic save (a new file
renamed over the old one) as well as an in-place write. Each check grades that
exercise only (its hidden tests included, so a pass is a real pass), records
the result like ``course check l00.1`` does, and shows only that exercise's
failing tests. When it passes: "passed, next: ..." and the watch moves on to
the next unfinished exercise. A line typed on the terminal is a command
(``h`` hint, ``c`` check now, ``q`` quit); Ctrl-C quits as well.
"""

from __future__ import annotations

import os
import select
import sys
import time
from pathlib import Path

import click
from rich.markup import escape

from ..exercises.meta import Course, CourseError, Exercise, load_course
from ..exercises.progress import Progress
from ..grading.runner import grade_lesson
from ..i18n import N_, _, exercise_hints, exercise_title
from .feedback import print_collect_errors, print_exercise_failures, progress_line, section_url
from .main import cli, console, friendly_errors, lang_option, spinner

KEYS = N_("h + Enter: next hint · c + Enter: check now · q + Enter or Ctrl-C: quit")


def file_state(path: Path) -> tuple[int, int, int] | None:
    """What changes when a file is saved, or None when it does not exist (between an editor's delete and write)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


class LineReader:
    """Lines typed on standard input, without blocking; it stops listening at end of input (stdin not a terminal)."""

    def __init__(self, fd: int | None):
        self.fd = fd
        self.buffer = ""

    def wait(self, timeout: float) -> str | None:
        """Wait up to ``timeout`` seconds for a whole line; return it stripped and lowered, or None."""
        if self.fd is None:
            time.sleep(timeout)
            return None
        ready, _w, _x = select.select([self.fd], [], [], timeout)
        if ready:
            chunk = os.read(self.fd, 1024)
            if not chunk:
                self.fd = None  # end of input: keep watching, stop reading
                return None
            self.buffer += chunk.decode(errors="replace")
        if "\n" in self.buffer:
            line, self.buffer = self.buffer.split("\n", 1)
            return line.strip().lower()
        return None


def _choose(course: Course, progress: Progress, name: str | None) -> Exercise | None:
    if name:
        lesson, one = course.find(name)
        return one or progress.first_unfinished(lesson.exercises)
    return progress.current(course)


def _check(course: Course, progress: Progress, ex: Exercise) -> bool:
    """Grade one exercise, record it, show its result; True when it passed."""
    lesson = course.lesson(ex.lesson)
    with spinner(f"checking {ex.id} ..."):
        report = grade_lesson(lesson, "exercises", exercise=ex.id, course=course)
    progress.record(report)
    progress.save()
    summary = report.exercises().get(ex.id, {"points": 0, "max_points": ex.max_points, "passed": False})
    console.rule(f"{ex.id} {escape(exercise_title(course.root, ex))}  {time.strftime('%H:%M:%S')}")
    if not summary["passed"]:
        print_exercise_failures(console, report, lesson, ex.id)
        print_collect_errors(console, report)
    return summary["passed"]


def _show_hint(course: Course, progress: Progress, ex: Exercise) -> None:
    index = progress.next_hint(ex.id, len(ex.hints))
    progress.save()
    section = section_url(course.lesson(ex.lesson), ex)
    if index is None:
        console.print(_("No hint left for {id}: the failing tests above say what they expect; read {where}",
                        id=ex.id, where=section))
        return
    console.print("[bold]" + _("hint {n}/{total}", n=index + 1, total=len(ex.hints)) + "[/] "
                  + escape(exercise_hints(course.root, ex)[index]) + "\n" + _("read: {where}", where=section))


def watch_exercises(course: Course, progress: Progress, ex: Exercise | None, reader: LineReader,
                    interval: float) -> None:
    """The watch loop: check, wait for a save or a command, check again; move on when an exercise passes."""
    while ex is not None:
        path = course.exercises_dir / ex.lesson / ex.file
        state = file_state(path)
        if _check(course, progress, ex):
            following = progress.current(course)
            after = (f"{following.id} {escape(exercise_title(course.root, following))} "
                     f"(exercises/{following.lesson}/{following.file})"
                     if following else _("nothing, every exercise has passed!"))
            console.print("[bold green]" + _("✓ {id} passed, next: {after}", id=ex.id, after=after) + "[/]")
            console.print(_("Compare with the reference: course solution {id}", id=ex.id))
            console.print(progress_line(course, progress))
            ex = following
            continue
        console.print(progress_line(course, progress))
        console.print(_("Watching exercises/{lesson}/{file}: save it to check {id} again.", lesson=ex.lesson,
                        file=ex.file, id=ex.id) + "\n[dim]" + _(KEYS) + "[/]")
        while True:
            command = reader.wait(interval)
            if command in ("q", "quit", "exit"):
                return
            if command in ("h", "hint"):
                _show_hint(course, progress, ex)
            elif command in ("c", "check"):
                break
            now = file_state(path)
            if now != state:
                time.sleep(min(interval, 0.2))  # let the editor finish writing
                break
    console.print(_("[green]Every exercise has passed.[/] `course lessons` shows them all."))


@cli.command()
@click.argument("name", required=False, metavar="[EXERCISE|LESSON]")
@click.option("--interval", default=0.5, show_default=True, help="seconds between looks at the file")
@friendly_errors
@lang_option
def watch(name: str | None, interval: float) -> None:
    """Re-check the current exercise each time you save its file, then move on to the next one."""
    course = load_course()
    progress = Progress.load(course)
    ex = _choose(course, progress, name)
    if ex is None:
        if name:
            raise CourseError(f"every exercise of {name} has passed; `course watch` alone takes the next open one")
        console.print(_("[green]Every exercise has passed.[/] `course lessons` shows them all."))
        return
    reader = LineReader(sys.stdin.fileno() if sys.stdin is not None and not sys.stdin.closed else None)
    console.print(f"[bold]course watch[/]: {ex.id} {escape(exercise_title(course.root, ex))}, "
                  f"in exercises/{ex.lesson}/{ex.file}")
    try:
        watch_exercises(course, progress, ex, reader, interval)
    except KeyboardInterrupt:
        console.print("\n" + _("Stopped watching. Your progress is saved; `course watch` picks up where you are."))
        return
    console.print(_("Stopped watching. Your progress is saved; `course watch` picks up where you are."))
