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
import json
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


def render_index_table(course: Course, lang: str = "en") -> str:
    """The home page's lessons table, in ``lang`` (names and summaries from course.LANG.toml)."""
    from ..i18n import lesson_text, translate

    header = [translate("lesson", lang), translate("subject", lang), translate("status", lang)]
    rows = ["| " + " | ".join(header) + " |", "| --- | --- | --- |"]
    for lesson in course.all_lessons:
        name = f"{lesson.short}: {lesson_text(course.root, lesson, 'nav', lang)}"
        cell = f"[{name}]({_page_link(lesson)})" if lesson.ready else name
        status = translate("available", lang) if lesson.ready else translate("planned", lang)
        rows.append(f"| {cell} | {lesson_text(course.root, lesson, 'summary', lang)} | {status} |")
    return "\n".join(rows) + "\n"


def render_languages(course: Course) -> str:
    """mkdocs-static-i18n's languages: each with its name, and the site's words from course.LANG.toml
    (the site's name, the navigation's entries, untitled admonitions' titles)."""
    from ..i18n import DEFAULT, LANGUAGES, lesson_text, site_text

    def q(text: str) -> str:
        return json.dumps(text, ensure_ascii=False)

    out = []
    for code, name in LANGUAGES.items():
        out += [f"        - locale: {code}", *(["          default: true"] if code == DEFAULT else []),
                f"          name: {q(name)}", "          build: true"]
        if code == DEFAULT:
            continue
        for key in ("site_name", "site_description"):
            if site_text(course.root, code, key):
                out.append(f"          {key}: {q(site_text(course.root, code, key))}")
        nav = {english: site_text(course.root, code, key) for english, key in FIXED_NAV.items()}
        pattern = site_text(course.root, code, "lesson")
        for lesson in course.lessons:
            english = f"Lesson {lesson.short[1:]}: {lesson.nav}"
            local = lesson_text(course.root, lesson, "nav", code)
            if pattern or local != lesson.nav:
                nav[english] = (pattern or "Lesson {number}: {nav}").format(number=lesson.short[1:], nav=local)
        nav = {k: v for k, v in nav.items() if v and v != k}
        if nav:
            out.append("          nav_translations:")
            out += [f"            {q(k)}: {q(v)}" for k, v in nav.items()]
        admonitions = {kind: site_text(course.root, code, f"admonition_{kind}") for kind in ADMONITIONS}
        admonitions = {k: v for k, v in admonitions.items() if v}
        if admonitions:
            out.append("          admonition_translations:")
            out += [f"            {k}: {q(v)}" for k, v in admonitions.items()]
    return "\n".join(out) + "\n"


# The navigation's entries that are not lessons (site/mkdocs.yml), and the companion key of each.
FIXED_NAV = {"Home": "nav_home", "Glossary": "nav_glossary", "Errata": "nav_errata",
             "For instructors": "nav_instructors", "For contributors": "nav_contributors"}
ADMONITIONS = ("note", "tip", "warning", "example")


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
_REGIONS = (
    Region("site/mkdocs.yml", f"  # BEGIN lessons {SYNCED}\n", "  # END lessons\n", render_nav),
    Region("lessons/index.md", "<!-- BEGIN quick start (README's, copied by `course dev sync`) -->\n",
           "<!-- END quick start -->\n", render_quick_start, "quick start"),
    Region("lessons/index.md", f"<!-- BEGIN lessons {SYNCED} -->\n", "<!-- END lessons -->\n", render_index_table),
    Region("lessons/index.md", f"<!-- BEGIN extras {SYNCED} -->\n", "<!-- END extras -->\n", render_extras, "list of extras"),
    Region("README.md", f"<!-- BEGIN lessons {SYNCED} -->\n", "<!-- END lessons -->\n", render_readme_table),
    Region("README.md", f"<!-- BEGIN extras {SYNCED} -->\n", "<!-- END extras -->\n", render_extras, "list of extras"),
    Region("site/mkdocs.yml", "        # BEGIN languages (written by `course dev sync` from course.toml and course.LANG.toml)\n",
           "        # END languages\n", render_languages, "list of languages"),
)


def regions(course: Course) -> list[Region]:
    """Every generated region: the fixed ones, and the home page's in each language it is translated into."""
    from ..i18n import DEFAULT, LANGUAGES

    found = list(_REGIONS)
    for lang in LANGUAGES:
        page = f"lessons/index.{lang}.md"
        if lang == DEFAULT or not (course.root / page).is_file():
            continue
        for region in _REGIONS:
            if region.file == "lessons/index.md":
                renderer = region.renderer
                if renderer is render_index_table:
                    renderer = (lambda code: lambda c: render_index_table(c, code))(lang)
                found.append(Region(page, region.begin, region.end, renderer, region.what))
    return found


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
    for region in regions(course):
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
    for region in regions(course):
        path = course.root / region.file
        text = path.read_text()
        before, body, after = _split(text, region)
        wanted = region.render(course)
        if body != wanted:
            path.write_text(before + wanted + after)
            if path not in changed:
                changed.append(path)
    return changed

