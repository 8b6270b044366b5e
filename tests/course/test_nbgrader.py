"""``course nbgrader export`` and the real nbgrader round trip.

The round trip runs nbgrader's own command line on an exported course:
``generate_assignment``, then ``autograde`` of a class of submissions (honest,
partial, an endless loop that swallows interrupts, a kernel killed inside a
function and at import, an edited locked test cell), ``generate_feedback`` and
``export``. Each notebook's score must equal the score the course's own pytest
grader (``course grade``) gives the same code as Python files: two graders, one
answer.
"""

from __future__ import annotations

import copy
import csv
import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from extras import require_extra

require_extra("instructor")

import nbformat  # noqa: E402  (with nbgrader, the instructor extra)
from click.testing import CliRunner

from course.cli.main import cli
from course.exercises.meta import CourseError, load_course
from course.grading.batch import grade_batch
from course.grading.nbexport import export, slugify, split_page, to_notebook_markdown
from course.grading.notebook import NotebookLesson, TestFailed
from course.grading.supervisor import Limits

from conftest import ROOT
from test_release_hides import assert_absent, hidden_snippets, solution_snippets

SLUG = "l00_getting_started"
TIMEOUT = 20  # seconds per cell in the round trip


def nbgrader_env(home: Path) -> dict:
    """nbgrader and Jupyter isolated from the machine's own configuration."""
    env = dict(os.environ)
    for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"), ("JUPYTER_RUNTIME_DIR", "runtime")):
        env[var] = str(home / "jupyter" / sub)
    env.pop("COURSE_TARGET", None)
    return env


def nbgrader(course_dir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course_dir, env=nbgrader_env(course_dir),
                          capture_output=True, text=True, timeout=900)
    # nbgrader logs a broken nbgrader_config.py and goes on with defaults: that must fail here.
    assert "Exception while loading config file" not in proc.stderr, proc.stderr[-3000:]
    if check:
        assert proc.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{proc.stderr[-3000:]}"
    return proc


def module_cells(nb) -> dict[str, dict]:
    return {c.source.split()[1]: c for c in nb.cells if c.cell_type == "code" and c.source.startswith("%%module ")}


# --- export ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    dest = tmp_path_factory.mktemp("nbcourse")
    result = CliRunner().invoke(cli, ["nbgrader", "export", str(dest), "--timeout", str(TIMEOUT)])
    assert result.exit_code == 0, result.output
    return dest


def test_export_writes_config_and_one_notebook_per_lesson(exported, course):
    config = (exported / "nbgrader_config.py").read_text()
    assert "c.CourseDirectory.root = str(root)" in config
    assert "sqlite:///" in config and f"c.Execute.timeout = {TIMEOUT}" in config
    for lesson in course.lessons:
        assert (exported / "source" / lesson.slug / f"{lesson.slug}.ipynb").is_file()


@pytest.mark.parametrize("lesson", [l.slug for l in load_course(ROOT).lessons])
def test_notebook_has_valid_nbgrader_cells(exported, course, lesson):
    nb = nbformat.read(exported / "source" / lesson / f"{lesson}.ipynb", as_version=4)
    nbformat.validate(nb)
    metas = [c.metadata["nbgrader"] for c in nb.cells]
    assert all(m["schema_version"] == 3 for m in metas)
    ids = [m["grade_id"] for m in metas]
    assert len(ids) == len(set(ids)), "grade ids must be unique"
    assert all(re.fullmatch(r"[A-Za-z0-9_-]+", i) for i in ids)
    graded = {m["grade_id"]: m["points"] for m in metas if m["grade"]}
    lesson_ = course.lesson(lesson)
    assert graded == {name: pts for name, (_, pts, _) in lesson_.test_points(hidden=True).items()}
    for cell in nb.cells:
        m = cell.metadata["nbgrader"]
        if m["grade"]:
            assert m["locked"] and not m["solution"] and cell.cell_type == "code"
            hidden = lesson_.test_points(hidden=True)[m["grade_id"]][2]
            assert cell.source.startswith("### BEGIN HIDDEN TESTS") == hidden
        if m["solution"]:
            assert "### BEGIN SOLUTION" in cell.source and not m["locked"]
    # every lesson file is one %%module cell, with the file's exact text
    for name, cell in module_cells(nb).items():
        assert cell.source.split("\n", 1)[1] == (course.solutions_dir / lesson / f"{name}.py").read_text()


def test_export_again_keeps_the_course_and_refuses_to_clobber(tmp_path):
    runner = CliRunner()
    assert runner.invoke(cli, ["nbgrader", "export", str(tmp_path)]).exit_code == 0
    again = runner.invoke(cli, ["nbgrader", "export", str(tmp_path), "--json"])
    assert again.exit_code == 0 and json.loads(again.output)["written"] == []
    config = tmp_path / "nbgrader_config.py"
    config.write_text(config.read_text() + "c.Exchange.root = '/srv/exchange'\n")
    refused = runner.invoke(cli, ["nbgrader", "export", str(tmp_path), "--timeout", "90"])
    assert refused.exit_code == 2 and "--force" in refused.output and "nbgrader_config.py" in refused.output
    assert "/srv/exchange" in config.read_text(), "a refused export must leave the file as it was"
    forced = runner.invoke(cli, ["nbgrader", "export", str(tmp_path), "--timeout", "90", "--force"])
    assert forced.exit_code == 0 and "c.Execute.timeout = 90" in config.read_text()
    bad = runner.invoke(cli, ["nbgrader", "export", str(tmp_path / "x"), "--timeout", "0"])
    assert bad.exit_code == 2 and "timeout" in bad.output


def test_export_refuses_tests_a_notebook_cannot_run(course_copy, tmp_path):
    tests = course_copy / "autograder" / SLUG / "test_l00_measure.py"
    tests.write_text(tests.read_text() + "\n\ndef test_unlisted(target):\n    pass\n")
    with pytest.raises(CourseError, match="test_unlisted is not listed in course.toml"):
        export(load_course(course_copy), tmp_path / "a")
    tests.write_text(tests.read_text().replace("def test_unlisted(target)", "def test_measure_empty_reply(target, capsys)", 1)
                     .replace("def test_measure_empty_reply(target):", "def test_measure_empty_reply_old(target):"))
    with pytest.raises(CourseError, match="takes 'capsys'.*fixtures.py"):
        export(load_course(course_copy), tmp_path / "b")


# --- markdown ---------------------------------------------------------------------


def test_markdown_rewrites_mkdocs_syntax(tmp_path):
    (tmp_path / "ex.py").write_text("print('hi')\n")
    page = (
        "Intro [errata](../errata.md) and [docs](https://example.org/x).\n\n"
        '!!! warning "Careful"\n    Body line.\n\n    Second paragraph.\n\n'
        "```python\n--8<-- \"ex.py\"\n```\n\n"
        '=== "Linux"\n    Use apt.\n'
        "Text { .note }\n"
    )
    out = to_notebook_markdown(page, tmp_path)
    assert "Intro errata and [docs](https://example.org/x)." in out
    assert "> **Careful**\n>\n> Body line.\n>\n> Second paragraph." in out
    assert "```python\nprint('hi')\n```" in out
    assert "**Linux**\n\nUse apt." in out
    assert out.rstrip().endswith("Text")
    with pytest.raises(CourseError, match="missing.py"):
        to_notebook_markdown('--8<-- "missing.py"\n', tmp_path)


def test_page_sections_match_the_site_anchors(course):
    for lesson in course.lessons:
        parts = split_page((course.root / lesson.page).read_text())
        assert parts.title and parts.intro
        for ex in lesson.exercises:
            assert ex.section in parts.sections, ex.id
    assert slugify("Qwen: the native `<tool_call>` template") == "qwen-the-native-tool_call-template"


# --- the runner inside the kernel -----------------------------------------------------


def test_notebook_runner_supplies_fixtures_and_parametrize(capsys):
    lesson = NotebookLesson("lx_runner", shell=None)
    lesson.define_module("base", "def double(x):\n    return 2 * x\n")
    lesson.define_module("top", "from .base import double\n\ndef quad(x):\n    return double(double(x))\n")
    seen = []

    @pytest.mark.parametrize("x,want", [(1, 4), pytest.param(2, 8)])
    def test_quad(target, x, want):
        seen.append(x)
        assert target.load("top").quad(x) == want

    assert lesson.run(test_quad) is None  # a number would be read as partial credit by nbgrader
    assert seen == [1, 2] and "passed: test_quad" in capsys.readouterr().out


def test_notebook_runner_failures(capsys):
    lesson = NotebookLesson("lx_fail", shell=None)
    lesson.define_module("m", "import sys\n\ndef f():\n    print('oops', file=sys.stderr)\n    sys.exit(0)\n")

    def test_exits(target):
        target.load("m").f()

    with pytest.raises(TestFailed) as info:
        lesson.run(test_exits)
    assert "test_exits failed" in str(info.value) and "SystemExit" in str(info.value)
    assert "oops" in capsys.readouterr().out, "stderr during a test goes to stdout (nbgrader zeroes stderr)"

    with pytest.raises(TestFailed) as info:
        lesson.run(test_exits, hidden=True)
    assert info.value._render_traceback_() == [f"TestFailed: {info.value}"]
    assert "test_exits" not in str(info.value) and "oops" not in capsys.readouterr().out

    def test_wants_capsys(target, capsys):
        pass

    with pytest.raises(TestFailed, match="no fixture 'capsys'"):
        lesson.run(test_wants_capsys)

    def test_missing_module(target):
        target.load("nope")

    with pytest.raises(TestFailed, match="needs its `%%module nope` cell"):
        lesson.run(test_missing_module)
    with pytest.raises(ZeroDivisionError):
        lesson.define_module("broken", "x = 1 / 0\n")

    def test_broken(target):
        target.load("broken")

    with pytest.raises(TestFailed, match="`%%module broken` failed when it ran"):
        lesson.run(test_broken)


# --- the real nbgrader round trip -----------------------------------------------------

LOOP = '''    if timezone == "Mars/Olympus":
        import time
        while True:  # endless, and deaf to the timeout's interrupt
            try:
                time.sleep(0.1)
            except KeyboardInterrupt:
                pass
'''
KILL = '''    if call.name not in tools:
        import os, signal
        os.kill(os.getpid(), signal.SIGKILL)
'''


def _insert_after(text: str, anchor: str, code: str) -> str:
    assert anchor in text, anchor
    return text.replace(anchor, anchor + code, 1)


def class_files(course, release) -> dict[str, dict[str, str]]:
    """Each student's lesson files, as Python text."""
    solved = {p.name: p.read_text() for p in (course.solutions_dir / SLUG).glob("*.py") if p.name != "__init__.py"}
    stubs = {f"{name}.py": cell.source.split("\n", 1)[1] for name, cell in module_cells(release).items()}
    partial = {**stubs, "time_tool.py": solved["time_tool.py"], "schema.py": solved["schema.py"]}
    begin = "    ### BEGIN SOLUTION\n"
    loop = dict(solved, **{"time_tool.py": _insert_after(solved["time_tool.py"], begin, LOOP)})
    agent = solved["agent.py"]
    kill_at = agent.index(begin, agent.index("def execute_tool_call")) + len(begin)
    kill = dict(solved, **{"agent.py": agent[:kill_at] + KILL + agent[kill_at:]})
    dies_on_import = dict(solved, **{"measure.py": "import os\nos._exit(1)\n" + solved["measure.py"]})
    return {"untouched": stubs, "solved": solved, "partial": partial, "loops": loop, "kills_kernel": kill,
            "dies_on_import": dies_on_import, "edits_tests": partial}


def submission_notebook(release, files: dict[str, str], *, edit_tests: bool = False):
    nb = copy.deepcopy(release)
    for name, cell in module_cells(nb).items():
        cell.source = f"%%module {name}\n{files[name + '.py']}"
    if edit_tests:  # every locked test now passes whatever the code does; nbgrader must restore them
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade"):
                cell.source = "pass  # trust me\n"
    return nb


@pytest.fixture(scope="module")
def round_trip(exported, course, tmp_path_factory):
    nbgrader(exported, "generate_assignment", SLUG)
    release = nbformat.read(exported / "release" / SLUG / f"{SLUG}.ipynb", as_version=4)
    files = class_files(course, release)

    # The same code as Python files, graded by the course's own pytest grader.
    py_root = tmp_path_factory.mktemp("py_submissions")
    for student, student_files in files.items():
        for name, text in student_files.items():
            (py_root / student / SLUG).mkdir(parents=True, exist_ok=True)
            (py_root / student / SLUG / name).write_text(text)
    batch = grade_batch(py_root, course=course, lessons=[SLUG], workers=2,
                        limits=Limits(test_s=TIMEOUT, submission_s=600, memory_mb=4096))
    expected = {st.student: st.reports[SLUG].points for st in batch.students}

    for student, student_files in files.items():
        folder = exported / "submitted" / student / SLUG
        folder.mkdir(parents=True)
        nbformat.write(submission_notebook(release, student_files, edit_tests=student == "edits_tests"),
                       folder / f"{SLUG}.ipynb")
    autograde = nbgrader(exported, "autograde", SLUG, check=False)
    nbgrader(exported, "generate_feedback", SLUG)
    nbgrader(exported, "export")
    with open(exported / "grades.csv") as f:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}
    return {"release": release, "expected": expected, "scores": scores, "autograde": autograde, "dir": exported}


def autograded_outputs(rt, student: str, grade_id: str) -> list[dict]:
    nb = nbformat.read(rt["dir"] / "autograded" / student / SLUG / f"{SLUG}.ipynb", as_version=4)
    return next(c.outputs for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def test_release_has_no_solutions_or_hidden_tests(round_trip, course):
    text = nbformat.writes(round_trip["release"])
    assert_absent({"release notebook": text}, solution_snippets(course), "solution code")
    assert_absent({"release notebook": text}, hidden_snippets(course), "hidden tests")
    assert "### BEGIN SOLUTION" not in text and "### BEGIN HIDDEN TESTS" not in text


def test_every_submission_is_graded_and_agrees_with_course_grade(round_trip, course):
    assert round_trip["autograde"].returncode == 0, round_trip["autograde"].stderr[-3000:]
    scores, expected = round_trip["scores"], round_trip["expected"]
    assert set(scores) == set(expected)
    assert {s: int(v) for s, v in scores.items()} == expected
    full = sum(ex.max_points for ex in course.lesson(SLUG).exercises)
    assert expected["untouched"] == 0 and expected["solved"] == full
    for student in ("partial", "loops", "kills_kernel"):
        assert 0 < expected[student] < full, student
    assert expected["edits_tests"] == expected["partial"], "editing locked tests changes nothing"
    assert expected["dies_on_import"] < full


def test_the_endless_loop_is_stopped_by_the_timeout(round_trip):
    outputs = autograded_outputs(round_trip, "loops", "test_time_tool_rejects_unknown_zone")
    assert any(o.get("ename") == "CellTimeoutError" and f"more than {TIMEOUT} s" in o.get("evalue", "")
               for o in outputs), outputs
    # the next test ran in a fresh kernel and passed
    assert not any(o.output_type == "error" for o in autograded_outputs(round_trip, "loops", "test_json_type_simple_types"))


def test_a_killed_kernel_costs_only_its_tests(round_trip):
    outputs = autograded_outputs(round_trip, "kills_kernel", "test_execute_reports_unknown_tool")
    assert any(o.get("ename") == "DeadKernelError" for o in outputs), outputs
    assert not any(o.output_type == "error"
                   for o in autograded_outputs(round_trip, "kills_kernel", "test_measure_with_fake_clock"))


def test_feedback_keeps_hidden_tests_hidden(round_trip, course):
    pages = {str(p): html.unescape(re.sub(r"<[^>]+>", "", p.read_text()))
             for p in (round_trip["dir"] / "feedback").rglob("*.html")}
    assert len(pages) == len(round_trip["expected"])
    assert all("Score:" in text for text in pages.values())
    assert_absent(pages, hidden_snippets(course), "hidden tests")
    failed = pages[str(round_trip["dir"] / "feedback" / "untouched" / SLUG / f"{SLUG}.html")]
    assert "a hidden test failed" in failed and "NotImplementedError" in failed
