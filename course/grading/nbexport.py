"""Write an nbgrader course from the course's one source (``course nbgrader export DIR``).

For every lesson, ``source/<slug>/<slug>.ipynb`` is built from what already
exists, with no per-lesson code:

* the lesson page's introduction (everything before its first ``##`` heading);
* for each lesson file, the page sections of its exercises and their hints,
  then the file itself as one ``%%module`` cell (see
  :mod:`course.grading.notebook`). A file with ``### BEGIN SOLUTION`` regions is
  an nbgrader solution cell; nbgrader's ``generate_assignment`` turns its
  regions into stubs, as ``course exercises build`` does for the Python files;
* a locked setup cell, and for each autograder test file a locked cell with its
  imports and helpers and one graded, locked cell per test, worth the points
  ``course.toml`` gives it, its grade id the test's name. A hidden test's cell
  holds its file's helpers and the test, all between ``### BEGIN HIDDEN TESTS``
  and ``### END HIDDEN TESTS``.

``nbgrader_config.py`` sets the course root (the folder it lives in), the
sqlite gradebook, the cell timeout, and the course's executor, which restarts a
kernel that died or hung and goes on with the next cell.

An existing file that would change is left alone unless ``force`` is set, so a
second export into a live nbgrader course never overwrites an edited
configuration or the gradebook (which export never writes).
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import textwrap
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from ..exercises.meta import Course, CourseError, Exercise, Lesson
from .fixtures import FIXTURES, RUNNER_FIXTURES

SCHEMA_VERSION = 3
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
DEFAULT_TIMEOUT = 60
SKIP = {"__pycache__", "__init__.py"}


# --- markdown: mkdocs-material page -> notebook markdown ----------------------

_SNIPPET = re.compile(r'^(\s*)--8<--\s+"([^"]+)"\s*$')
_ADMONITION = re.compile(r'^(\s*)(?:!!!|\?\?\?\+?)\s+([\w-]+)(?:\s+"([^"]*)")?\s*$')
_TAB = re.compile(r'^(\s*)===\+?\s+"([^"]*)"\s*$')
_LINK = re.compile(r"(?<!!)\[([^\]]+)\]\(([^)\s]+)\)")
_ATTR_LIST = re.compile(r"\s*\{:?\s*[.#][^}]*\}\s*$")


def slugify(heading: str) -> str:
    """The anchor mkdocs gives a heading (Python-Markdown's default ``toc`` slugify)."""
    text = re.sub(r"[`*]", "", heading)  # markup goes, the text inside code spans stays
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def to_notebook_markdown(text: str, docs_dir: Path) -> str:
    """Rewrite mkdocs-only syntax into plain markdown a notebook renders.

    Snippet includes become the included file, admonitions become block quotes,
    content tabs become bold labels, links to other pages become their text
    (absolute links stay), and attribute lists go.
    """
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if m := _SNIPPET.match(line):
            path = docs_dir / m.group(2)
            if not path.is_file():
                raise CourseError(f"a page includes {m.group(2)}, which is not a file under {docs_dir}")
            out += [m.group(1) + l if l else l for l in path.read_text().rstrip("\n").splitlines()]
            i += 1
            continue
        block = _ADMONITION.match(line) or _TAB.match(line)
        if block:
            indent = block.group(1)
            body, i = _indented_block(lines, i + 1, len(indent) + 4)
            inner = to_notebook_markdown(textwrap.dedent("\n".join(body)), docs_dir).splitlines()
            if block.re is _TAB:
                out += [f"{indent}**{block.group(2)}**", "", *[indent + l if l else l for l in inner]]
            else:
                title = block.group(3) if block.group(3) is not None else block.group(2).capitalize()
                quoted = [f"**{title}**", "", *inner] if title else inner
                out += [f"{indent}> {l}".rstrip() for l in quoted]
            continue
        line = _LINK.sub(lambda m: m.group(0) if re.match(r"^[a-z]+://", m.group(2)) else m.group(1), line)
        out.append(_ATTR_LIST.sub("", line) if not line.lstrip().startswith("```") else line)
        i += 1
    return "\n".join(out)


def _indented_block(lines: list[str], start: int, width: int) -> tuple[list[str], int]:
    """The lines from ``start`` indented by at least ``width`` (blank lines included), and where they end."""
    body, i = [], start
    while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) >= width):
        body.append(lines[i])
        i += 1
    while body and not body[-1].strip():
        body.pop()
        i -= 1
    return body, i


@dataclass
class PageParts:
    title: str
    intro: str
    sections: dict[str, tuple[str, str]]  # anchor -> (heading text, body without the heading line)


def split_page(text: str) -> PageParts:
    """Title, introduction and sections (by anchor, at every heading level) of a lesson page."""
    lines = text.splitlines()
    headings, fence = [], None
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped.startswith(("```", "~~~")):
            mark = stripped[:3]
            fence = None if fence == mark else (fence or mark)
        elif fence is None and (m := re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)):
            headings.append((i, len(m.group(1)), m.group(2)))
    title = next((h for _, level, h in headings if level == 1), "")
    first_h2 = next((i for i, level, _ in headings if level >= 2), len(lines))
    start = next((i + 1 for i, level, _ in headings if level == 1), 0)
    intro = "\n".join(lines[start:first_h2]).strip()
    sections = {}
    for n, (i, level, heading) in enumerate(headings):
        end = next((j for j, lv, _ in headings[n + 1:] if lv <= level), len(lines))
        sections[slugify(heading)] = (heading, "\n".join(lines[i + 1:end]).strip())
    return PageParts(title, intro, sections)


# --- code: solution files and autograder tests -> cells -----------------------


@dataclass
class TestCell:
    name: str
    source: str
    points: int
    hidden: bool


@dataclass
class TestFile:
    path: Path
    doc: str
    helpers: str
    tests: list[TestCell] = field(default_factory=list)


def _segment(source: str, node: ast.stmt) -> str:
    lines = source.splitlines()
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    return "\n".join(lines[first - 1: node.end_lineno])


def _fixture_problems(fn: ast.FunctionDef, where: str) -> list[str]:
    """Arguments of a test that no notebook fixture, ``@given`` or ``parametrize`` can supply."""
    decorators = " ".join(ast.unparse(d) for d in fn.decorator_list)
    if "given(" in decorators or "parametrize(" in decorators:
        return []  # hypothesis or pytest fill (some of) the arguments: checked when the notebook runs
    known = {*RUNNER_FIXTURES, *FIXTURES}
    return [f"{where}: test {fn.name} takes {a.arg!r}, which notebooks do not provide "
            f"(they have {', '.join(sorted(known))}); add it to course/grading/fixtures.py"
            for a in fn.args.args if a.arg not in known]


def read_test_file(path: Path, points: dict[str, tuple[Exercise, int, bool]], rel: str) -> TestFile:
    source = path.read_text()
    try:
        tree = ast.parse(source, str(path))
    except SyntaxError as exc:
        raise CourseError(f"{rel} does not parse: {exc}") from exc
    doc = ast.get_docstring(tree) or ""
    helpers, tests, problems = [], [], []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            if node.name not in points:
                problems.append(f"{rel}: test {node.name} is not listed in course.toml, so it has no points")
                continue
            problems += _fixture_problems(node, rel)
            _, pts, hidden = points[node.name]
            tests.append(TestCell(node.name, _segment(source, node), pts, hidden))
        elif isinstance(node, (ast.AsyncFunctionDef, ast.ClassDef)) and node.name.startswith(("test_", "Test")):
            problems.append(f"{rel}: {node.name}: notebooks run plain test functions only")
        elif not (node is tree.body[0] and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
            helpers.append(_segment(source, node))
    if problems:
        raise CourseError("cannot export these tests to a notebook:\n  " + "\n  ".join(problems))
    return TestFile(path, doc, "\n\n".join(helpers), tests)


def module_order(folder: Path, lesson: Lesson) -> list[Path]:
    """The lesson's modules, each after the modules it imports relatively, else in ``course.toml`` order."""
    files = sorted(p for p in folder.glob("*.py") if p.name not in SKIP)
    rank = {ex.file: n for n, ex in enumerate(lesson.exercises)}
    files.sort(key=lambda p: (rank.get(p.name, len(rank)), p.name))
    names = {p.stem: p for p in files}
    deps: dict[str, set[str]] = {}
    for p in files:
        tree = ast.parse(p.read_text(), str(p))
        found = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                found |= {node.module} if node.module else {a.name for a in node.names}
        deps[p.stem] = found & set(names) - {p.stem}
    ordered, done = [], set()

    def visit(name: str, trail: tuple[str, ...]) -> None:
        if name in done:
            return
        if name in trail:
            raise CourseError(f"{lesson.slug}: modules import each other in a circle: {' -> '.join((*trail, name))}")
        for dep in sorted(deps[name], key=lambda d: files.index(names[d])):
            visit(dep, (*trail, name))
        done.add(name)
        ordered.append(names[name])

    for p in files:
        visit(p.stem, ())
    return ordered


# --- notebook -------------------------------------------------------------------


def _meta(grade_id: str, *, grade: bool = False, solution: bool = False, locked: bool = False,
          points: int | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": SCHEMA_VERSION,
            "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def _cell(kind: str, source: str, meta: dict) -> dict:
    # nbformat 4.5 cell ids: the grade id, which is already unique and stable across exports.
    cell = {"cell_type": kind, "id": meta["nbgrader"]["grade_id"][:64], "metadata": meta, "source": source}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def _grade_id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_")


def lesson_notebook(course: Course, lesson: Lesson) -> dict:
    """The nbgrader source notebook of one lesson, as an nbformat 4 dict."""
    root = course.root
    docs_dir = (root / lesson.page).parents[1]
    page = split_page((root / lesson.page).read_text())
    md = lambda text: to_notebook_markdown(text, docs_dir)  # noqa: E731
    solutions = course.solutions_dir / lesson.slug
    if not solutions.is_dir():
        raise CourseError(f"{lesson.slug}: no solutions/{lesson.slug}/ folder to build the notebook from")

    cells = [
        _cell("markdown", f"# {page.title or lesson.title}\n\n{md(page.intro)}", _meta("intro", locked=True)),
        _cell("markdown", "## Setup\n\nRun this cell first. It loads the course's notebook runner, which gives "
              "each lesson file its own `%%module` cell and runs the autograder tests below.",
              _meta("setup_note", locked=True)),
        _cell("code", f'from course.grading.notebook import NotebookLesson\n\nlesson = NotebookLesson("{lesson.slug}")',
              _meta("setup", locked=True)),
    ]
    for path in module_order(solutions, lesson):
        source = path.read_text()
        has_solution = "### BEGIN SOLUTION" in source
        parts = []
        for ex in (e for e in lesson.exercises if e.file == path.name):
            if ex.section not in page.sections:
                raise CourseError(f"{ex.id}: section #{ex.section} is not a heading of {lesson.page}")
            heading, body = page.sections[ex.section]
            hints = "\n".join(f"{n}. {h}" for n, h in enumerate(ex.hints, 1))
            parts.append(f"## Exercise {ex.id}: {ex.title}\n\n*From the lesson's section \u201c{heading}\u201d.*\n\n"
                         f"{md(body)}\n\n<details>\n<summary>Hints</summary>\n\n{hints}\n\n</details>")
        what = ("Write your code where the cell says `YOUR CODE HERE`, then run the cell."
                if has_solution else "This module is given: run the cell.")
        parts.append(f"### `{path.name}`\n\nThe cell below is the lesson file `{path.name}`. {what}")
        cells.append(_cell("markdown", "\n\n".join(parts), _meta(_grade_id(f"about_{path.stem}"), locked=True)))
        cells.append(_cell("code", f"%%module {path.stem}\n{source.rstrip()}\n",
                           _meta(_grade_id(f"module_{path.stem}"), solution=has_solution, locked=not has_solution)))

    cells += _test_cells(course, lesson)
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _test_cells(course: Course, lesson: Lesson) -> list[dict]:
    folder = course.root / "autograder" / lesson.slug
    points = lesson.test_points(hidden=True)
    public = [read_test_file(p, points, str(p.relative_to(course.root))) for p in sorted(folder.glob("test_*.py"))]
    hidden = [read_test_file(p, points, str(p.relative_to(course.root)))
              for p in sorted((folder / "hidden").glob("test_*.py"))]
    found = {t.name: t for f in public + hidden for t in f.tests}
    missing = [n for n in points if n not in found]
    if missing:
        raise CourseError(f"{lesson.slug}: course.toml lists tests that autograder/{lesson.slug}/ does not define: "
                          + ", ".join(missing))
    wrong = [t.name for f in public for t in f.tests if t.hidden] + [t.name for f in hidden for t in f.tests if not t.hidden]
    if wrong:
        raise CourseError(f"{lesson.slug}: hidden tests belong in autograder/{lesson.slug}/hidden/ and only there: "
                          + ", ".join(wrong))

    cells = [_cell("markdown", "## Tests\n\nEach cell below is one autograder test, worth the points in its nbgrader "
                   "metadata. Run them after your code: `lesson.run(...)` prints `passed` or shows why the test "
                   "failed. Your instructor's grading also runs hidden tests, which are empty cells here.",
                   _meta("tests_note", locked=True))]
    for f in public:
        cells.append(_cell("code", f"# Imports and helpers of {f.path.name}\n{f.helpers}".rstrip() + "\n",
                           _meta(_grade_id(f"helpers_{f.path.stem}"), locked=True)))
        for t in f.tests:
            cells.append(_cell("code", f"{t.source}\n\n\nlesson.run({t.name})\n",
                               _meta(t.name, grade=True, locked=True, points=t.points)))
    for f in hidden:
        for t in f.tests:
            body = f"{f.helpers}\n\n\n{t.source}\n\n\nlesson.run({t.name}, hidden=True)"
            cells.append(_cell("code", f"{BEGIN_HIDDEN}\n{body}\n{END_HIDDEN}\n",
                               _meta(t.name, grade=True, locked=True, points=t.points)))
    return cells


# --- the nbgrader course ----------------------------------------------------------


def config_text(course: Course, timeout: int) -> str:
    assignments = ", ".join(f'dict(name="{lesson.slug}")' for lesson in course.lessons)
    return f'''"""nbgrader configuration for "{course.title}", written by `course nbgrader export`.

Run nbgrader from this folder, for example:
    nbgrader generate_assignment l00_getting_started
    nbgrader autograde l00_getting_started
The notebooks need the course package (`pip install -e ".[instructor]"` in the
course checkout) in the Python that runs nbgrader: their kernel is that Python.
"""

from pathlib import Path

from course.grading.nbexecute import use_course_executor

c = get_config()  # noqa: F821 (nbgrader defines it)
root = Path(__file__).resolve().parent

c.CourseDirectory.root = str(root)
c.CourseDirectory.course_id = "edge-agents-course"
c.CourseDirectory.db_url = f"sqlite:///{{root / 'gradebook.db'}}"
c.CourseDirectory.db_assignments = [{assignments}]

# Seconds one cell may run. A test that calls a learner's endless loop is
# stopped here, scores 0, and grading goes on with the next cell.
c.Execute.timeout = {timeout}

# Restart a kernel that died or hung and go on with the next cell; keep hidden
# tests out of feedback.
use_course_executor(c)
'''


def export(course: Course, dest: Path, *, timeout: int = DEFAULT_TIMEOUT, force: bool = False,
           lessons: list[Lesson] | None = None) -> list[Path]:
    """Write the nbgrader course into ``dest``; return the files written (unchanged ones are not rewritten)."""
    if timeout <= 0:
        raise CourseError(f"the cell timeout must be a positive number of seconds, got {timeout}")
    lessons = lessons or list(course.lessons)
    planned: dict[Path, str] = {dest / "nbgrader_config.py": config_text(course, timeout)}
    extra: dict[Path, Path] = {}
    for lesson in lessons:
        nb = lesson_notebook(course, lesson)
        planned[dest / "source" / lesson.slug / f"{lesson.slug}.ipynb"] = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
        folder = course.solutions_dir / lesson.slug
        for p in sorted(folder.rglob("*")):
            if p.is_file() and p.suffix != ".py" and "__pycache__" not in p.parts:
                extra[dest / "source" / lesson.slug / p.relative_to(folder)] = p
    changed = [p for p, text in planned.items() if p.exists() and p.read_text() != text]
    changed += [p for p, src in extra.items() if p.exists() and p.read_bytes() != src.read_bytes()]
    if changed and not force:
        raise CourseError(f"export would overwrite files in {dest} that differ from what it writes:\n  "
                          + "\n  ".join(str(p.relative_to(dest)) for p in changed)
                          + "\nkeep them and export elsewhere, or pass --force to replace them")
    written = []
    for p, text in planned.items():
        if p.exists() and p.read_text() == text:
            continue
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        written.append(p)
    for p, src in extra.items():
        if p.exists() and p.read_bytes() == src.read_bytes():
            continue
        p.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, p)
        written.append(p)
    return written
