"""One lesson registry (course.toml) and what follows from it: lists written from it, checks, a scaffold, the CLI's
verb table (issue 17)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course.cli.main import cli
from course.cli.verbs import VERB_GROUPS, bench_modes, find_command
from course.dev.check import run_checks
from course.dev.scaffold import new_lesson
from course.dev.sync import quick_start_commands, stale, sync
from course.exercises.meta import CourseError, load_course, parse_course
from course.grading import grade_lesson

ROOT = Path(__file__).resolve().parents[2]
COURSE = load_course(ROOT)


def test_the_course_is_consistent():
    """What `course dev check` runs: generated lists, folders, extras, fixtures, commands, exercises."""
    problems = {name: found for name, found in run_checks(COURSE).items() if found}
    assert not problems, json.dumps(problems, indent=2)


def test_every_lesson_is_declared_planned_ones_included():
    shorts = [lesson.short for lesson in COURSE.all_lessons]
    assert shorts == [f"l{n:02d}" for n in range(12)]
    assert {lesson.short for lesson in COURSE.planned} <= {"l08", "l10", "l11"}  # the lessons still to write
    for lesson in COURSE.planned:
        assert not (ROOT / lesson.page).exists(), f"{lesson.short} has a page: make it ready in course.toml"
        with pytest.raises(CourseError, match=f"{lesson.short} .* is planned, not written yet"):
            COURSE.lesson(lesson.short)


def _copy(tmp_path: Path, *parts: str) -> Path:
    root = tmp_path / "course-copy"
    for part in parts:
        src = ROOT / part
        if src.is_dir():
            shutil.copytree(src, root / part, ignore=shutil.ignore_patterns("__pycache__", "build", ".*"))
        else:
            (root / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, root / part)
        if part == "course.toml":  # and its companions in the other languages, which the site's lists read too
            for companion in ROOT.glob("course.*.toml"):
                shutil.copy(companion, root / companion.name)
    return root


def test_a_lesson_missing_from_the_nav_is_found_and_sync_puts_it_back(tmp_path):
    root = _copy(tmp_path, "course.toml", "README.md", "site/mkdocs.yml", "lessons/index.md")
    nav = root / "site" / "mkdocs.yml"
    nav.write_text(nav.read_text().replace('  - "Lesson 07: Ollama": l07_ollama/index.md\n', ""))
    problems = stale(parse_course(root))
    assert len(problems) == 1 and problems[0].startswith("site/mkdocs.yml") and "course dev sync" in problems[0]
    assert '+  - "Lesson 07: Ollama": l07_ollama/index.md' in problems[0]
    assert sync(parse_course(root)) == [nav]
    assert stale(parse_course(root)) == [] and nav.read_text() == (ROOT / "site" / "mkdocs.yml").read_text()


NEW_PLANNED = """
[[lesson]]
slug = "l12_next_steps"
short = "l12"
title = "Next steps"
page = "lessons/l12_next_steps/index.md"
status = "planned"
nav = "A new lesson"
summary = "a lesson still to write"
packages = []
verbs = []
benchmarks = []
extras = []
fixtures = []
"""


def test_a_new_entry_reaches_every_list(tmp_path):
    root = _copy(tmp_path, "course.toml", "README.md", "site/mkdocs.yml", "lessons/index.md")
    toml = root / "course.toml"
    toml.write_text(toml.read_text() + NEW_PLANNED)
    changed = {p.relative_to(root).as_posix() for p in sync(parse_course(root))}
    assert changed == {"lessons/index.md", "README.md"}  # a planned lesson has no page in the nav yet
    assert "| l12: A new lesson |" in (root / "lessons" / "index.md").read_text()


def test_readme_and_the_home_page_name_every_extra_and_give_one_quick_start():
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    readme, home = (ROOT / "README.md").read_text(), (ROOT / "lessons" / "index.md").read_text()
    for name in extras:
        row = "| `all` (or `test`) |" if name in ("all", "test") else f"| `{name}` |"
        assert row in readme and row in home, f"the extra {name} is missing from README or the home page"
    commands = quick_start_commands(readme)
    assert len(commands) == 2  # .ci/run runs exactly these
    assert "```bash\n" + "\n".join(commands) + "\n```\n" in home
    assert home.count("## Quick start") == 1


def test_a_new_quick_start_reaches_the_home_page(tmp_path):
    root = _copy(tmp_path, "course.toml", "README.md", "site/mkdocs.yml", "lessons/index.md")
    readme = root / "README.md"
    readme.write_text(readme.read_text().replace("python -m pytest\n", "python -m pytest -x\n", 1))
    (problem,) = stale(parse_course(root))
    assert problem.startswith("lessons/index.md: the quick start") and "+python -m pytest -x" in problem
    assert sync(parse_course(root)) == [root / "lessons" / "index.md"]
    assert "python -m pytest -x\n```" in (root / "lessons" / "index.md").read_text()


def test_markers_that_went_missing_say_how_to_mend_it(tmp_path):
    root = _copy(tmp_path, "course.toml", "README.md", "site/mkdocs.yml", "lessons/index.md")
    readme = root / "README.md"
    readme.write_text(readme.read_text().replace("<!-- END lessons -->\n", ""))
    (problem,) = stale(parse_course(root))
    assert "README.md has no generated lesson list" in problem and "<!-- END lessons -->" in problem


@pytest.mark.parametrize("edit,message", [
    (('status = "ready"', 'status = "someday"'), "has status 'someday'; use one of ready, planned"),
    (('extras = ["server"]', 'extras = ["gpu"]'), r"uses extra\(s\) gpu that no \[extra.NAME\] declares"),
    (('short = "l07"', 'short = "l7"'), "has short name 'l7'"),
    (('slug = "l09_agent_framework"\nshort = "l09"', 'slug = "l09_agent_framework"\nshort = "l07"'),
     "short name 'l07'"),
])
def test_course_toml_mistakes_are_named(tmp_path, edit, message):
    root = _copy(tmp_path, "course.toml")
    toml = root / "course.toml"
    text = toml.read_text()
    assert edit[0] in text
    toml.write_text(text.replace(edit[0], edit[1], 1))
    with pytest.raises(CourseError, match=message):
        parse_course(root)


def test_every_command_belongs_to_one_verb_group():
    listed = [name for names in VERB_GROUPS.values() for name in names]
    assert sorted(listed) == sorted(set(listed)), "a verb in two groups"
    assert set(listed) == set(cli.commands), "course --help groups these by VERB_GROUPS"
    assert find_command(cli, ["deploy", "check"]) is not None and find_command(cli, ["deploy", "nope"]) is None
    assert set(bench_modes()) == {"generation", "grammar", "grading", "routing", "serving", "foundry", "runtimes",
                                  "knobs", "vllm", "redteam", "redaction", "garak", "limits", "prometheus", "capstone"}


def _course(*args: str, cwd: Path = ROOT, env: dict | None = None, timeout: float = 120):
    return subprocess.run([sys.executable, "-m", "course", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


@pytest.mark.parametrize("args", [("lessons",), ("models",), ("doctor",), ("dev", "check"),
                                  ("deploy", "check", "--example", "single_device")])
def test_json_prints_only_json(args):
    proc = _course(*args, "--json")
    json.loads(proc.stdout)  # nothing else on standard output


def test_bench_without_a_mode_is_generation_and_modes_are_exclusive():
    assert _course("bench", "--serving").returncode == 2  # the old flags are gone, not silently ignored
    help_text = _course("bench", "--help").stdout
    assert all(mode in help_text for mode in bench_modes())


def test_doctor_lists_each_extra_with_the_lessons_that_use_it():
    checks = {c["check"]: c for c in json.loads(_course("doctor", "--json").stdout)}
    foundry = checks["extra foundry (lessons l06)"]
    assert not foundry["required"] and foundry["ok"] == (foundry["detail"].startswith("installed"))
    assert foundry["fix"] == ("" if foundry["ok"] else 'pip install -e ".[foundry]"')
    assert "extra qwen (lessons l02, l05)" in checks and "extra instructor" in checks


# A planned lesson not started yet: its package does not exist (one begun, such as l10's course/production,
# is not scaffolded over; the scaffold refuses, see test_the_scaffold_never_overwrites).
UNSTARTED = next((lesson for lesson in COURSE.planned if not any((ROOT / p).exists() for p in lesson.packages)), None)


@pytest.fixture(scope="module")
def scaffolded(tmp_path_factory):
    """A copy of the course with two lessons scaffolded: a new one and a planned one not started yet."""
    root = _copy(tmp_path_factory.mktemp("scaffold"), "course.toml", "pyproject.toml", "README.md", "site",
                 "lessons", "solutions", "exercises", "autograder", "course")
    written = new_lesson(root, "l12_edge_vision", title="Edge vision: agents that see")
    if UNSTARTED:
        written += new_lesson(root, UNSTARTED.slug)
    return root, written


def test_a_scaffolded_lesson_passes_every_check(scaffolded):
    root, written = scaffolded
    course = parse_course(root)
    problems = {name: found for name, found in run_checks(course).items() if found}
    assert not problems, json.dumps(problems, indent=2)
    assert [lesson.short for lesson in course.lessons][-1] == "l12"
    if UNSTARTED:
        assert course.lesson(UNSTARTED.short).title == UNSTARTED.title  # the planned entry's, kept
    assert '"Lesson 12: Edge vision": l12_edge_vision/index.md' in (root / "site" / "mkdocs.yml").read_text()
    assert {p.relative_to(root).as_posix() for p in written} >= {
        "lessons/l12_edge_vision/index.md", "lessons/l12_edge_vision/examples/first_look.py",
        "course/edge_vision/__init__.py", "solutions/l12_edge_vision/first_steps.py",
        "exercises/l12_edge_vision/first_steps.py", "autograder/l12_edge_vision/test_l12.py",
        "course.toml", "site/mkdocs.yml", "lessons/index.md", "README.md"}


def test_a_scaffolded_lesson_grades_and_its_example_runs(scaffolded):
    root, _ = scaffolded
    course = parse_course(root)
    full = grade_lesson("l12", "solutions", course=course)
    assert full.points == full.max_points == 1
    assert grade_lesson("l12", "exercises", course=course).points == 0
    example = root / "lessons" / "l12_edge_vision" / "examples" / "first_look.py"
    proc = subprocess.run([sys.executable, str(example)], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(root)})
    assert proc.returncode == 0 and proc.stdout.startswith("Lesson 12: Edge vision"), proc.stderr


def test_the_scaffold_never_overwrites(scaffolded):
    root, _ = scaffolded
    with pytest.raises(CourseError, match="l12 is already l12_edge_vision"):
        new_lesson(root, "l12_edge_vision")
    with pytest.raises(CourseError, match="not a lesson slug"):
        new_lesson(root, "lesson-13")
    (root / "lessons" / "l13_fleet").mkdir()
    (root / "lessons" / "l13_fleet" / "index.md").write_text("mine")
    before = (root / "course.toml").read_text()
    with pytest.raises(CourseError, match="files exist already: lessons/l13_fleet/index.md"):
        new_lesson(root, "l13_fleet")
    assert (root / "course.toml").read_text() == before


def test_a_lesson_importing_another_lessons_package_is_found(tmp_path):
    from course.dev.check import lessons_independent

    root = _copy(tmp_path, "course.toml", "course/foundry", "course/servers", "course/agent")
    (root / "course" / "foundry" / "borrowed.py").write_text("from ..servers.engine import Engine\n"
                                                              "from ..agent import Agent  # shared: allowed\n")
    (problem,) = lessons_independent(parse_course(root))
    assert problem.startswith("course/foundry/borrowed.py imports course.servers.engine") and "l07" in problem
    toml = root / "course.toml"
    text = toml.read_text()
    toml.write_text(text.replace('slug = "l06_foundry_local"', 'slug = "l06_foundry_local"\nbuilds_on = ["l07"]'))
    with pytest.raises(CourseError, match="builds only on earlier lessons"):
        parse_course(root)  # l07 comes after l06
    toml.write_text(text.replace('slug = "l07_ollama"', 'slug = "l07_ollama"\nbuilds_on = ["l05"]'))
    shutil.copytree(ROOT / "course" / "routing", root / "course" / "routing")
    (root / "course" / "foundry" / "borrowed.py").write_text("from ..routing.policy import decide\n")
    (root / "course" / "servers" / "mine.py").write_text("from ..routing.policy import decide\n")
    assert lessons_independent(parse_course(root)) == [
        "course/foundry/borrowed.py imports course.routing.policy, which belongs to l05: move what both use into "
        "the shared layer"]  # l07 builds on l05; l06 does not


# --- runtimes behind one registry -------------------------------------------------------------------

def test_every_backend_is_chosen_by_its_name():
    from course.backends import BACKENDS, backend_class

    for name in BACKENDS:
        assert backend_class(name).name == name


def test_an_unknown_or_uninstalled_backend_says_what_to_do(monkeypatch):
    from course.backends import BackendUnavailableError, make_backend, registry

    with pytest.raises(BackendUnavailableError, match="no backend called 'tensorrt'; the backends are llama.cpp, "):
        make_backend("tensorrt")
    monkeypatch.setitem(registry.BACKENDS, "gone", registry.BackendSpec("gone", "course_no_such_runtime", "X",
                                                                        extra="gone-extra"))
    with pytest.raises(BackendUnavailableError, match=r'needs course_no_such_runtime: pip install -e "\.\[gone-extra\]"'):
        make_backend("gone")


def test_no_backend_imports_another_backend():
    """Backends share the layer under them (base, types, grammar, the text protocol, the loader), not each other."""
    import ast

    from course.backends import BACKENDS

    modules = {spec.module for spec in BACKENDS.values()}
    for spec in BACKENDS.values():
        path = ROOT / (spec.module.replace(".", "/") + ".py")
        package = spec.module.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
                name = ".".join([*base, node.module or ""]) if node.level else node.module
                assert name not in modules - {spec.module}, f"{path.relative_to(ROOT)} imports {name}"


def test_a_missing_extra_skips_for_a_learner_and_fails_under_ci(monkeypatch):
    import extras

    monkeypatch.setattr(extras, "missing", lambda name: ["foundry_local_sdk"])
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r'needs the foundry extra \(foundry_local_sdk missing\): '
                                                    r'pip install -e "\.\[foundry\]"'):
        extras.require_extra("foundry")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="needs the foundry extra"):
        extras.require_extra("foundry")


def test_real_model_is_never_set_by_hand():
    """tests/conftest.py sets it from a test's folder and fixtures; a hand-set mark goes stale."""
    import re

    hand = re.compile(r"^\s*(@pytest\.mark\.real_model|pytestmark\s*=.*real_model)", re.M)
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "tests").rglob("test_*.py") if hand.search(p.read_text())]
    assert not offenders, offenders


def test_the_marker_follows_folders_and_fixtures(pytestconfig):
    from conftest import REAL_MODEL_FIXTURES

    assert {"smollm2", "model_file", "course_server", "local_runtime"} <= REAL_MODEL_FIXTURES
    proc = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "real_model", "-p",
                           "no:cacheprovider", "tests/unit/test_routing.py", "tests/integration/test_cli.py"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    ids = [line for line in proc.stdout.splitlines() if "::" in line]
    assert "tests/unit/test_routing.py::test_label_probabilities_from_the_real_model" in ids  # takes smollm2
    assert not any("test_the_policy_says_why" in i for i in ids)  # fakes only
    assert any(i.startswith("tests/integration/test_cli.py::") for i in ids)  # the folder
