"""The documents that list the lessons, written from ``course.toml``.

Each lives between two marker lines in a file a person otherwise edits by hand:
the site's navigation (``site/mkdocs.yml``), the lessons table of the home page
(``lessons/index.md``) and README's lesson list. :func:`sync` rewrites what lies
between the markers; :func:`stale` says which ones differ, with the difference.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from ..exercises.meta import Course, CourseError, Lesson


@dataclass(frozen=True)
class Region:
    """A generated part of a file: between ``begin`` and ``end``, the text ``render`` makes."""

    file: str  # relative to the course root
    begin: str
    end: str

    def render(self, course: Course) -> str:
        return RENDERERS[self.file](course)


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
        rows.append(f"| {cell} | {lesson.summary} | {'available' if lesson.ready else 'coming'} |")
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


RENDERERS = {
    "site/mkdocs.yml": render_nav,
    "lessons/index.md": render_index_table,
    "README.md": render_readme_table,
}

REGIONS = (
    Region("site/mkdocs.yml", "  # BEGIN lessons (written by `course dev sync` from course.toml)\n", "  # END lessons\n"),
    Region("lessons/index.md", "<!-- BEGIN lessons (written by `course dev sync` from course.toml) -->\n",
           "<!-- END lessons -->\n"),
    Region("README.md", "<!-- BEGIN lessons (written by `course dev sync` from course.toml) -->\n",
           "<!-- END lessons -->\n"),
)


def _split(text: str, region: Region) -> tuple[str, str, str]:
    """(before the region, the region's body, from the end marker on)."""
    start = text.find(region.begin)
    end = text.find(region.end, start + len(region.begin)) if start >= 0 else -1
    if start < 0 or end < 0:
        raise CourseError(f"{region.file} has no generated lesson list: put the two lines\n{region.begin}{region.end}"
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
            problems.append(f"{region.file}: the lesson list is not what course.toml says; run `course dev sync`\n{diff}")
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

