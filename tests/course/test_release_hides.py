"""Nothing a learner receives contains the solutions or the hidden tests.

What a learner receives: ``exercises/``, the installed package (the wheel),
and the lesson site. (The nbgrader release notebooks are checked by the
nbgrader round-trip tests.) Solutions are found by the code of each solution
region; hidden tests by their source lines.
"""

import subprocess
import sys
import zipfile

import pytest

from course.exercises.generate import find_regions

from conftest import ROOT


def solution_snippets(course) -> list[str]:
    """Distinctive lines from inside every solution region (long enough not to occur by chance)."""
    snippets = []
    for lesson in course.lessons:
        for path in (course.solutions_dir / lesson.slug).glob("*.py"):
            lines = path.read_text().splitlines()
            for region in find_regions(path.read_text(), path.name):
                body = [line.strip() for line in lines[region.start + 1:region.end]]
                snippets += [line for line in body if len(line) >= 30]
    # a line the public library also contains (course/), or a hint hands out on purpose, gives nothing away
    library = "".join(p.read_text() for p in (ROOT / "course").rglob("*.py"))
    hints = "\n".join(h for lesson in course.lessons for ex in lesson.exercises for h in ex.hints)
    snippets = [line for line in snippets if line not in library and line not in hints]
    assert snippets
    return snippets


def hidden_snippets(course) -> list[str]:
    """Distinctive lines of the hidden tests (a line they share with the public tests, or an import of the course's
    public library, gives nothing away)."""
    public = {line.strip() for path in course.autograder_dir.glob("*/test_*.py") for line in path.read_text().splitlines()}
    lines = []
    for path in course.autograder_dir.glob("*/hidden/*.py"):
        lines += [line.strip() for line in path.read_text().splitlines()
                  if len(line.strip()) >= 30 and line.strip() not in public
                  and not line.strip().startswith(("from course.", "import course"))]
    assert lines
    return lines


def assert_absent(texts: dict[str, str], snippets: list[str], what: str) -> None:
    leaks = [(name, s) for name, text in texts.items() for s in snippets if s in text]
    assert not leaks, f"{what} found in what learners receive: {leaks[:3]}"


def test_exercises_hold_no_solutions_or_hidden_tests(course):
    texts = {str(p): p.read_text() for p in course.exercises_dir.rglob("*.py")}
    assert_absent(texts, solution_snippets(course), "solution code")
    assert_absent(texts, hidden_snippets(course), "hidden tests")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                           "-w", str(out), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return next(out.glob("*.whl"))


def test_the_installed_package_holds_no_solutions_or_hidden_tests(course, wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        texts = {n: zf.read(n).decode("utf-8", "replace") for n in names}
    assert not [n for n in names if n.startswith(("solutions/", "autograder/", "exercises/"))]
    assert_absent(texts, solution_snippets(course), "solution code")
    assert_absent(texts, hidden_snippets(course), "hidden tests")


def test_the_site_holds_no_solutions_or_hidden_tests(course, site_folder):
    out = site_folder  # the session's one build (tests/conftest.py)
    texts = {str(p): p.read_text(errors="replace") for p in out.rglob("*") if p.suffix in {".html", ".py", ".json", ".js"}
             and "assets" not in p.parts}
    assert_absent(texts, solution_snippets(course), "solution code")
    assert_absent(texts, hidden_snippets(course), "hidden tests")
