"""``course dev``: for the people who write the course (the lesson registry in course.toml and what follows)."""

from __future__ import annotations

import click
from rich.markup import escape

from .main import cli, console, friendly_errors, print_json


@cli.group()
def dev() -> None:
    """For contributors: check the course's consistency, write the lesson lists, scaffold a lesson."""


@dev.command("check")
@click.option("--json", "as_json", is_flag=True, help="print only JSON")
@friendly_errors
def check(as_json: bool) -> None:
    """Every consistency check of the course, in seconds (exit 1 if any fails)."""
    from ..dev.check import run_checks
    from ..exercises.meta import find_root, parse_course

    results = run_checks(parse_course(find_root()))
    failed = {name: problems for name, problems in results.items() if problems}
    if as_json:
        print_json(results)
    else:
        for name, problems in results.items():
            console.print(f"{'[red]✗[/]' if problems else '[green]✓[/]'} {name}")
            for problem in problems:
                console.print(f"    {escape(problem)}", highlight=False)
        console.print("[green]The course is consistent.[/]" if not failed
                      else f"[red]{sum(map(len, failed.values()))} problem(s).[/]")
    raise SystemExit(1 if failed else 0)


@dev.command("sync")
@friendly_errors
def sync() -> None:
    """Write the site's navigation, the lessons table and README's lesson list from course.toml, and the
    lesson pages' benchmark tables from their committed data."""
    from ..bench.record import sync as write_tables
    from ..dev.sync import sync as write
    from ..exercises.meta import find_root, parse_course

    root = find_root()
    course = parse_course(root)
    changed = write(course) + write_tables(course)
    for path in changed:
        console.print(f"wrote {path.relative_to(root)}")
    console.print("already in sync" if not changed else f"{len(changed)} file(s) written")


@dev.command("new-lesson")
@click.argument("slug")
@click.option("--title", help="the lesson's title (default: a planned entry's, or the slug's words)")
@click.option("--nav", help="its short name in the site's navigation")
@friendly_errors
def new_lesson(slug: str, title: str | None, nav: str | None) -> None:
    """Scaffold lesson SLUG (l12_edge_vision): entry, page, example, package, solution, exercise, test, nav."""
    from ..dev.scaffold import new_lesson as scaffold
    from ..exercises.meta import find_root

    root = find_root()
    for path in scaffold(root, slug, title, nav):
        console.print(f"wrote {path.relative_to(root)}")
    console.print(f"next: fill in lessons/{slug}/index.md and solutions/{slug}/, then `course dev check` and "
                  f"`course check {slug[:3]} --target solutions`")
