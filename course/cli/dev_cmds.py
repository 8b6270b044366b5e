"""``course dev``: for the people who write the course (the lesson registry in course.toml and what follows)."""

from __future__ import annotations

from pathlib import Path

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


@dev.command("translations")
@click.option("--mark-current", "mark", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              multiple=True, help="record the English page's current hash in this translation (once updated)")
@click.option("--diff", "show_diff", is_flag=True, help="for each stale page, what changed in English since")
@click.option("--anchors", "anchors_of", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="print the heading anchors of a page, the {#ids} its translations end their headings with")
@click.option("--update-catalogs", is_flag=True,
              help="bring course/locale/LANG/LC_MESSAGES/course.po up to date with the messages in the code")
@click.option("--new-language", metavar="LANG",
              help="start a language's course.LANG.toml and catalog (its code must be in course/i18n.py's LANGUAGES)")
@friendly_errors
def translations(mark: tuple[Path, ...], show_diff: bool, anchors_of: Path | None, update_catalogs: bool,
                 new_language: str | None) -> None:
    """The site's translated pages: current, stale (the English page changed since) or with problems.

    Exit 1 when a translation changes what it must keep (code blocks, anchors, links); a stale page is
    reported, not failed: the site shows its readers a notice until it is updated."""
    from ..dev.translations import (LANGUAGES, anchors, catalog_problems, companion_problems, english_diff,
                                    mark_companion_current, mark_current, translations as found,
                                    update_catalogs as update)
    from ..i18n import DOMAIN, LOCALE_DIR
    from ..exercises.meta import find_root, parse_course

    root = find_root()
    course = parse_course(root)
    if anchors_of is not None:
        for anchor in anchors(anchors_of.read_text(encoding="utf-8")):
            console.print(f"{{#{anchor}}}", highlight=False)
        return
    package = Path(__file__).resolve().parents[1]
    if new_language:
        from ..dev.translations import companion_template
        from ..i18n import DEFAULT, check_language
        lang = check_language(new_language)  # a code not in LANGUAGES: the error says what to do
        if lang == DEFAULT:
            raise click.UsageError("English is the course's own language: it needs no translation")
        companion = root / f"course.{lang}.toml"
        if companion.exists():
            console.print(f"{companion.name} exists: kept")
        else:
            companion.write_text(companion_template(course, lang), encoding="utf-8")
            console.print(f"wrote {companion.name}")
        for path in update(package, [lang]):
            console.print(f"wrote {path}")
    if update_catalogs:
        for path in update(package):
            console.print(f"wrote {path}")
    for path in mark:
        if path.suffix == ".toml":
            marked = mark_companion_current(path, course)
            console.print(f"{path}: {marked} entries marked current with the English they translate")
            continue
        digest = mark_current(path)
        console.print(f"{path}: marked current with the English page's sha256 {digest[:12]}…")
    pages = found(root / "lessons")
    failed = 0
    for t in pages:
        rel = t.path.relative_to(root)
        if t.problems:
            failed += 1
            console.print(f"[red]✗[/] {rel}")
            for problem in t.problems:
                console.print(f"    {escape(problem)}", highlight=False)
        elif t.stale:
            console.print(f"[yellow]![/] {rel}: stale, {t.english.relative_to(root)} changed since it was "
                          f"translated; update it, then `course dev translations --mark-current {rel}`")
        else:
            console.print(f"[green]✓[/] {rel}")
        if show_diff and t.stale:
            console.print(escape(english_diff(t, root)), highlight=False, markup=False)
    for lang in LANGUAGES:
        path = root / f"course.{lang}.toml"
        if not path.is_file():
            console.print(f"[yellow]![/] course.{lang}.toml does not exist: the CLI speaks English to {lang} learners")
            continue
        problems, stale_entries = companion_problems(path, course)
        if problems:
            failed += 1
            console.print(f"[red]✗[/] course.{lang}.toml")
            for problem in problems:
                console.print(f"    {escape(problem)}", highlight=False)
        elif stale_entries:
            console.print(f"[yellow]![/] course.{lang}.toml: {len(stale_entries)} entries stale (course.toml changed "
                          f"since): {escape(', '.join(stale_entries[:8]))}{' …' if len(stale_entries) > 8 else ''}; "
                          f"update them, then `course dev translations --mark-current course.{lang}.toml`")
        else:
            console.print(f"[green]✓[/] course.{lang}.toml")
    for lang in LANGUAGES:
        path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        if not path.is_file():
            console.print(f"[yellow]![/] {path.relative_to(package.parent)} does not exist "
                          f"(`course dev translations --update-catalogs` starts it)")
            continue
        problems, done, total = catalog_problems(path, package)
        mark_ = "[red]✗[/]" if problems else ("[green]✓[/]" if done == total else "[yellow]![/]")
        console.print(f"{mark_} {path.relative_to(package.parent)}: {done} of {total} messages translated")
        for problem in problems:
            console.print(f"    {escape(problem)}", highlight=False)
        failed += bool(problems)
    stale = sum(1 for t in pages if t.stale and not t.problems)
    by_lang = {lang: sum(1 for t in pages if t.lang == lang) for lang in LANGUAGES}
    console.print(f"{len(pages)} translated pages ({', '.join(f'{k} {v}' for k, v in by_lang.items())}): "
                  f"{failed} with problems, {stale} stale")
    raise SystemExit(1 if failed else 0)
