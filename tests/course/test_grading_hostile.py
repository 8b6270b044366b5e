"""`course grade` against submissions that loop, crash or cheat.

Every hostile submission is built from the reference solution (to show the
grader still credits what works) or from the untouched stubs (to show a cheat
earns nothing). They are graded in one batch, two at a time, beside honest
submissions whose scores must not move.
"""

import json
import shutil
import textwrap

import pytest

from course.grading.batch import grade_batch, write_outputs
from course.grading.supervisor import Limits
from extras import require_isolation

require_isolation()

SLUG = "l00_getting_started"
FULL = 47


def _lesson_copy(course, dest, source):
    folder = dest / SLUG
    shutil.copytree(course.root / source / SLUG, folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def _edit(folder, file, old, new):
    text = (folder / file).read_text()
    assert old in text, f"{old!r} not in {file}"
    (folder / file).write_text(text.replace(old, new, 1))


def _prepend(folder, file, code):
    path = folder / file
    path.write_text(textwrap.dedent(code) + "\n" + path.read_text())


def build_submissions(course, root):
    """student name -> (what it does). Writes the folders under root."""
    made = {}

    def student(name, source, what):
        made[name] = what
        return _lesson_copy(course, root / name, source)

    student("honest_full", "solutions", "the reference solution")
    student("honest_empty", "exercises", "untouched stubs")

    f = student("loop_in_one_test", "solutions", "loops forever in the fake-clock measure test only")
    _edit(f, "measure.py", "    clock = clock or backend.clock\n",
          "    if messages and messages[0].get('content') == 'count':\n        while True:\n            pass\n"
          "    clock = clock or backend.clock\n")

    f = student("os_exit", "solutions", "os._exit(0) for an unknown timezone")
    _edit(f, "time_tool.py", "    try:\n        zone", "    if timezone == 'Mars/Olympus':\n        import os\n"
          "        os._exit(0)\n    try:\n        zone")

    f = student("segfault", "solutions", "segfaults in json_type(bool)")
    _edit(f, "schema.py", "    simple = {", "    if annotation is bool:\n        import ctypes\n"
          "        ctypes.string_at(0)\n    simple = {")

    f = student("memory_at_import", "solutions", "allocates 64 GiB when agent.py is imported")
    _prepend(f, "agent.py", "_HOG = bytearray(64 * 2**30)")

    f = student("memory_in_function", "solutions", "allocates 64 GiB in execute_tool_call for one tool")
    _edit(f, "agent.py", "    tool = tools.get(call.name)\n", "    if call.name == 'broken':\n"
          "        bytearray(64 * 2**30)\n    tool = tools.get(call.name)\n")

    f = student("sys_exit_at_import", "solutions", "sys.exit(0) when agent.py is imported")
    _prepend(f, "agent.py", "import sys\nsys.exit(0)")

    f = student("ships_conftest", "exercises", "a conftest.py that marks every test passed")
    (f / "conftest.py").write_text(textwrap.dedent("""
        import pytest

        @pytest.hookimpl(hookwrapper=True)
        def pytest_runtest_makereport(item, call):
            outcome = yield
            report = outcome.get_result()
            report.outcome = "passed"
    """))

    f = student("patches_pytest", "exercises", "replaces pytest's test call with a no-op at import")
    _prepend(f, "time_tool.py", """
        import _pytest.python
        _pytest.python.Function.runtest = lambda self: None
        _pytest.python.pytest_pyfunc_call = lambda pyfuncitem: True
    """)

    f = student("patches_grading_helpers", "exercises", "points the loader at the course's solutions")
    _prepend(f, "time_tool.py", """
        import course.grading.loader as _loader
        from course.exercises.meta import find_root as _find_root
        _original = _loader.load_module
        def _cheat(slug, module, target=None):
            return _original(slug, module, _find_root() / "solutions")
        _loader.load_module = _cheat
        _loader.TargetLoader.load = lambda self, module: _cheat(self.slug, module)
    """)

    f = student("fake_results", "exercises", "writes fake result files and lines to every file descriptor")
    _prepend(f, "time_tool.py", """
        import glob, json, os
        _fake = {"tests": {}, "outcome": "passed", "points": 47}
        for _path in ["outcomes.json", "results.json", "/tmp/outcomes.json", "../outcomes.json"]:
            try:
                open(_path, "w").write(json.dumps(_fake))
            except OSError:
                pass
        for _fd in range(3, 64):
            for _name in ["test_time_tool_default_is_utc", "test_loop_feeds_tool_results_back"]:
                for _event in ({"e": "start", "t": _name}, {"e": "end", "t": _name, "o": "passed", "m": "", "sig": "0" * 64}):
                    try:
                        os.write(_fd, (json.dumps(_event) + "\\n").encode())
                    except OSError:
                        pass
    """)

    f = student("edits_tests_then_crashes", "exercises", "rewrites every test to pass, then crashes to force a restart")
    _prepend(f, "time_tool.py", """
        import os, pathlib, re
        _here = pathlib.Path(__file__).resolve()
        for _parent in _here.parents:
            for _test in _parent.glob("autograder/**/test_*.py"):
                _names = re.findall(r"^def (test_\\w+)", _test.read_text(), re.M)
                try:
                    os.chmod(_test, 0o644)
                    _test.write_text("".join(f"def {n}():\\n    pass\\n" for n in _names))
                except OSError:
                    pass
        os._exit(1)
    """)

    f = student("reads_hidden_tests", "solutions", "puts the hidden tests' source into its failure messages")
    _prepend(f, "measure.py", """
        import pathlib
        _SECRET = ""
        for _parent in pathlib.Path(__file__).resolve().parents:
            for _p in _parent.glob("autograder/**/hidden/*.py"):
                _SECRET += _p.read_text()
    """)
    _edit(f, "measure.py", "    clock = clock or backend.clock\n",
          "    if _SECRET:\n        raise AssertionError(_SECRET)\n    clock = clock or backend.clock\n")

    f = student("scribbles_on_others", "solutions", "overwrites every other sandbox's submission with the solution")
    _prepend(f, "time_tool.py", """
        import glob, os, pathlib
        _mine = pathlib.Path(__file__).read_text()
        for _path in glob.glob("/tmp/course-grade-*/submission/*/*.py"):
            try:
                os.chmod(_path, 0o644)
                pathlib.Path(_path).write_text(open(pathlib.Path(__file__).with_name(pathlib.Path(_path).name)).read())
            except OSError:
                pass
    """)
    return made


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    root = tmp_path_factory.mktemp("submissions")
    made = build_submissions(course, root)
    result = grade_batch(root, course=course, lessons=[SLUG], workers=2,
                         limits=Limits(test_s=20, submission_s=300, memory_mb=4096))
    out = write_outputs(result, root.parent / "grades", course)
    by_name = {st.student: st.reports[SLUG] for st in result.students}
    return made, by_name, out, result


def points_of(report, exercise):
    return report.exercises()[exercise]["points"]


def full(report, *exercises):
    return all(report.exercises()[e]["passed"] for e in exercises)


def test_honest_scores_are_untouched(graded):
    _, r, _, _ = graded
    assert r["honest_full"].points == FULL
    assert r["honest_empty"].points == 0


def test_endless_loop_costs_only_its_test(graded):
    _, r, _, _ = graded
    rep = r["loop_in_one_test"]
    looped = [t for t in rep.tests if t.outcome == "timeout"]
    assert [t.name for t in looped] == ["test_measure_with_fake_clock"]
    assert rep.points == FULL - 3


@pytest.mark.parametrize("name,lost_exercise", [("os_exit", "l00.1"), ("segfault", "l00.2")])
def test_crash_costs_only_the_crashing_tests(graded, name, lost_exercise):
    _, r, _, _ = graded
    rep = r[name]
    crashed = [t for t in rep.tests if t.outcome == "crashed"]
    assert crashed and all(t.exercise == lost_exercise for t in crashed)
    others = [e for e in ("l00.1", "l00.2", "l00.3", "l00.4", "l00.5") if e != lost_exercise]
    assert full(rep, *others) and 0 < rep.points < FULL


def test_memory_error_at_import_costs_that_module_only(graded):
    _, r, _, _ = graded
    rep = r["memory_at_import"]
    assert points_of(rep, "l00.3") == 0 and points_of(rep, "l00.4") == 0
    assert full(rep, "l00.1", "l00.2", "l00.5")
    assert any("MemoryError" in t.message for t in rep.tests if not t.hidden)


def test_memory_error_in_one_function_costs_that_test(graded):
    _, r, _, _ = graded
    rep = r["memory_in_function"]
    failed = [t.name for t in rep.tests if t.outcome != "passed"]
    assert failed == ["test_execute_reports_tool_exception"]


def test_sys_exit_at_import_earns_nothing_from_that_module(graded):
    _, r, _, _ = graded
    rep = r["sys_exit_at_import"]
    assert points_of(rep, "l00.3") == 0 and points_of(rep, "l00.4") == 0
    assert full(rep, "l00.1", "l00.2", "l00.5")


@pytest.mark.parametrize("name", ["ships_conftest", "patches_pytest", "patches_grading_helpers", "fake_results",
                                  "edits_tests_then_crashes"])
def test_cheats_built_on_stubs_earn_nothing(graded, name):
    _, r, _, _ = graded
    assert r[name].points == 0, [t.name for t in r[name].tests if t.points]


def test_a_conftest_and_other_files_are_ignored(graded):
    _, r, _, _ = graded
    assert any("conftest.py" in note for note in r["ships_conftest"].notes)


def test_tests_cannot_be_rewritten(graded):
    """The tests are not in the submission's sandbox at all: nothing to rewrite, nothing earned."""
    _, r, _, _ = graded
    assert r["edits_tests_then_crashes"].points == 0 and not r["edits_tests_then_crashes"].tampered


def test_hidden_tests_never_reach_any_output(graded, course):
    _, r, out, _ = graded
    hidden_source = (course.autograder_dir / SLUG / "hidden" / "test_l00_hidden.py").read_text()
    marker = "New York's offset is -04:00 or -05:00"  # a sentence only the hidden tests contain
    assert marker in hidden_source
    everything = out["csv"].read_text() + out["json"].read_text() + "".join(
        p.read_text() for p in out["feedback"].glob("*.md"))
    assert marker not in everything
    rep = r["reads_hidden_tests"]
    assert rep.points == FULL, "it found no hidden test to leak, so its solution earns everything"


def test_scribbling_on_other_sandboxes_changes_no_one_else(graded):
    made, r, _, _ = graded
    assert r["honest_empty"].points == 0, "the scribbler must not lift a neighbour"
    assert r["scribbles_on_others"].points == FULL
    for name in made:
        assert r[name].points <= FULL


def test_outputs_have_every_student_and_test(graded, course):
    made, _, out, _ = graded
    rows = out["csv"].read_text().splitlines()
    assert len(rows) == len(made) + 1
    header = rows[0].split(",")
    assert header[:4] == ["student", "points", "max_points", "isolation"] and len(header) == 4 + 28
    assert {row.split(",")[3] for row in rows[1:]} == {"bwrap"}
    data = json.loads(out["json"].read_text())
    assert data["honest_full"]["points"] == FULL
    feedback = (out["feedback"] / "honest_empty.md").read_text()
    assert "hint:" in feedback and "lessons/l00_getting_started/index.md#the-agent-loop" in feedback
