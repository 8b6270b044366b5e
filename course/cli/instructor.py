"""Instructor verbs: ``course nbgrader export``."""

from __future__ import annotations

from pathlib import Path

import click

from ..exercises.meta import load_course
from .main import cli, console, friendly_errors, print_json


@cli.group()
def nbgrader() -> None:
    """Hand the course to nbgrader."""


@nbgrader.command("export")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--lesson", "lesson_names", multiple=True, help="only this lesson (repeatable); default: all")
@click.option("--timeout", default=60, show_default=True, help="seconds one notebook cell may run when autograding")
@click.option("--force", is_flag=True, help="replace files that differ from what export writes")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@friendly_errors
def export(dest: Path, lesson_names: tuple[str, ...], timeout: int, force: bool, as_json: bool) -> None:
    """Write an nbgrader course into DEST: nbgrader_config.py and source/<lesson>/<lesson>.ipynb.

    Run it again after the course changes: unchanged files are kept, and a file
    that would change (an edited nbgrader_config.py, say) stops the export
    unless --force. The gradebook and the students' folders are never touched.
    """
    from ..grading.nbexport import export as run_export

    course = load_course()
    lessons = [course.lesson(name) for name in lesson_names] or None
    dest = dest.resolve()  # a relative DEST (the README's `grading/`) names the same files everywhere below
    written = run_export(course, dest, timeout=timeout, force=force, lessons=lessons)
    if as_json:
        print_json({"dest": str(dest), "written": [str(p) for p in written]})
        return
    for p in written:
        console.print(f"wrote {p.relative_to(dest)}", highlight=False)
    if not written:
        console.print("nothing to write: the nbgrader course is up to date", highlight=False)
    first = (lessons or course.lessons)[0].slug
    console.print(f"\nNext: cd {dest} && nbgrader generate_assignment {first}", highlight=False)
