"""The documents that list the lessons, written from ``course.toml``.

Each lives between two marker lines in a file a person otherwise edits by hand:
the site's navigation (``site/mkdocs.yml``), the lessons table of the home page
(``lessons/index.md``) and README's lesson list; the list of extras in both README
and the home page; and the home page's quick start, which is README's (the two
commands ``.ci/run`` runs), so the two pages cannot tell a learner different things.
:func:`sync` rewrites what lies between the markers; :func:`stale` says which ones
differ, with the difference.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..exercises.meta import Course, CourseError, Lesson


@dataclass(frozen=True)
class Region:
    """A generated part of a file: between ``begin`` and ``end``, the text ``renderer`` makes."""

    file: str  # relative to the course root
    begin: str
    end: str
    renderer: Callable[[Course], str]
    what: str = "lesson list"

    def render(self, course: Course) -> str:
        return self.renderer(course)


def _page_link(lesson: Lesson) -> str:
    """The lesson page as the site sees it (relative to the docs folder ``lessons/``)."""
    return lesson.page.removeprefix("lessons/")


def render_nav(course: Course) -> str:
    return "".join(f'  - "Lesson {lesson.short[1:]}: {lesson.nav}": {_page_link(lesson)}\n' for lesson in course.lessons)


def render_index_table(course: Course) -> str:
    rows = ["| lesson | subject | status |", "| --- | --- | --- |"]
    for lesson in course.all_lessons:
        name = f"{lesson.short}: {lesson.nav}"
        cell = f"[{name}]({_page_link(lesson)})" if lesson.ready else name
        rows.append(f"| {cell} | {lesson.summary} | {'available' if lesson.ready else 'planned'} |")
    return "\n".join(rows) + "\n"


def _cli_cell(lesson: Lesson) -> str:
    verbs = [f"`course {verb}`" for verb in lesson.verbs]
    verbs += [f"`course bench {name}`" for name in lesson.benchmarks]
    return ", ".join(verbs)


def render_readme_table(course: Course) -> str:
    rows = ["| lesson | status | page | code in `course/` | commands | extras |", "| --- | --- | --- | --- | --- | --- |"]
    for lesson in course.all_lessons:
        page = f"[{lesson.page}]({lesson.page})" if lesson.ready else "(to come)"
        code = ", ".join(f"`{p}`" for p in lesson.packages)
        extras = ", ".join(f"`{e}`" for e in lesson.extras)
        rows.append(f"| {lesson.short} {lesson.nav} | {lesson.status} | {page} | {code} | {_cli_cell(lesson)} | {extras} |")
    return "\n".join(rows) + "\n"


def render_extras(course: Course) -> str:
    """Every extra of the install (course.toml's [extra.NAME], which `course dev check` matches with
    pyproject.toml's), and ``all``, which gathers them."""
    rows = ["| extra | what it adds |", "| --- | --- |"]
    rows += [f"| `{extra.name}` | {extra.about} |" for extra in course.extras.values()]
    rows.append("| `all` (or `test`) | every extra above, and what the test suite itself uses: what CI installs |")
    return "\n".join(rows) + "\n"


QUICK_START = "## Quick start"


def quick_start_commands(readme: str) -> list[str]:
    """The commands of README's quick start: the first ```bash block after its heading (what .ci/run runs)."""
    lines = readme.splitlines()
    try:
        start = next(n for n, line in enumerate(lines) if line.strip() == QUICK_START)
        block = next(n for n in range(start, len(lines)) if lines[n].startswith("```bash"))
        end = next(n for n in range(block + 1, len(lines)) if lines[n].startswith("```"))
    except StopIteration:
        raise CourseError(f"README.md has no ```bash block under '{QUICK_START}'") from None
    return [line for line in lines[block + 1:end] if line.strip()]


def render_quick_start(course: Course) -> str:
    commands = quick_start_commands((course.root / "README.md").read_text())
    return "```bash\n" + "\n".join(commands) + "\n```\n"


SYNCED = "(written by `course dev sync` from course.toml)"
REGIONS = (
    Region("site/mkdocs.yml", f"  # BEGIN lessons {SYNCED}\n", "  # END lessons\n", render_nav),
    Region("lessons/index.md", "<!-- BEGIN quick start (README's, copied by `course dev sync`) -->\n",
           "<!-- END quick start -->\n", render_quick_start, "quick start"),
    Region("lessons/index.md", f"<!-- BEGIN lessons {SYNCED} -->\n", "<!-- END lessons -->\n", render_index_table),
    Region("lessons/index.md", f"<!-- BEGIN extras {SYNCED} -->\n", "<!-- END extras -->\n", render_extras, "list of extras"),
    Region("README.md", f"<!-- BEGIN lessons {SYNCED} -->\n", "<!-- END lessons -->\n", render_readme_table),
    Region("README.md", f"<!-- BEGIN extras {SYNCED} -->\n", "<!-- END extras -->\n", render_extras, "list of extras"),
)


def _split(text: str, region: Region) -> tuple[str, str, str]:
    """(before the region, the region's body, from the end marker on)."""
    start = text.find(region.begin)
    end = text.find(region.end, start + len(region.begin)) if start >= 0 else -1
    if start < 0 or end < 0:
        raise CourseError(f"{region.file} has no generated {region.what}: put the two lines\n{region.begin}{region.end}"
                          f"where the list belongs, then run `course dev sync`")
    body_start = start + len(region.begin)
    return text[:body_start], text[body_start:end], text[end:]


def stale(course: Course) -> list[str]:
    """One message per generated region that differs from what ``course.toml`` gives, with the difference."""
    problems = []
    for region in REGIONS:
        path = course.root / region.file
        try:
            _, body, _ = _split(path.read_text(), region)
        except (OSError, CourseError) as exc:
            problems.append(str(exc))
            continue
        wanted = region.render(course)
        if body != wanted:
            diff = "".join(difflib.unified_diff(body.splitlines(True), wanted.splitlines(True),
                                                f"{region.file} (now)", f"{region.file} (from course.toml)"))
            problems.append(f"{region.file}: the {region.what} is not what `course dev sync` writes from course.toml "
                            f"(and README's quick start); run `course dev sync`\n{diff}")
    return problems


def sync(course: Course) -> list[Path]:
    """Rewrite every generated region from ``course.toml``; return the files that changed."""
    changed = []
    for region in REGIONS:
        path = course.root / region.file
        text = path.read_text()
        before, body, after = _split(text, region)
        wanted = region.render(course)
        if body != wanted:
            path.write_text(before + wanted + after)
            changed.append(path)
    return changed

