"""Every consistency check of the course, in seconds (``course dev check``).

Each check takes the parsed course and returns its problems, one message each,
saying what is wrong and what to do; an empty list is a pass. The test suite
runs the same checks (``tests/course/test_registry.py``).
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Callable
from pathlib import Path

from ..exercises.meta import Course, Lesson
from ..bench.record import stale as bench_stale
from .sync import stale


def lesson_folders(course: Course) -> list[str]:
    """A ready lesson has its page and its folders; a planned one has none of the folders yet."""
    problems = []
    for lesson in course.all_lessons:
        folders = {"solutions": course.solutions_dir / lesson.slug, "exercises": course.exercises_dir / lesson.slug,
                   "autograder": course.autograder_dir / lesson.slug}
        if lesson.ready:
            if not (course.root / lesson.page).is_file():
                problems.append(f"{lesson.short}: its page {lesson.page} does not exist")
            for kind, folder in folders.items():
                if not folder.is_dir():
                    problems.append(f"{lesson.short}: {kind}/{lesson.slug}/ does not exist "
                                    f"(`course dev new-lesson {lesson.slug}` makes a lesson's folders)")
            if not lesson.exercises:
                problems.append(f"{lesson.short}: a ready lesson needs at least one [[lesson.exercise]]")
        else:
            present = [f"{kind}/{lesson.slug}/" for kind, folder in folders.items() if folder.exists()]
            if present:
                problems.append(f"{lesson.short} is planned but {', '.join(present)} exist: "
                                f"set status = \"ready\" in course.toml")
        for package in lesson.packages if lesson.ready else ():
            if not (course.root / package / "__init__.py").is_file():
                problems.append(f"{lesson.short}: its package {package}/ does not exist")
    return problems


def extras_exist(course: Course) -> list[str]:
    """Every [extra.NAME] of course.toml is an extra of pyproject.toml, and the other way round."""
    pyproject = tomllib.loads((course.root / "pyproject.toml").read_text())
    declared = set(pyproject.get("project", {}).get("optional-dependencies", {}))
    problems = [f"course.toml's [extra.{name}] is not an extra of pyproject.toml"
                for name in course.extras if name not in declared]
    # test and all gather the others; every other extra needs a line for `course doctor`
    problems += [f"pyproject.toml's extra '{name}' has no [extra.{name}] in course.toml (course doctor checks it)"
                 for name in sorted(declared - set(course.extras) - {"test", "all"})]
    return problems


def fixtures_used(course: Course, lesson: Lesson) -> set[str]:
    """The grading fixtures (course.grading.fixtures.FIXTURES) that the lesson's tests take."""
    from ..grading.fixtures import FIXTURES

    used = set()
    for path in sorted((course.autograder_dir / lesson.slug).rglob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                used |= {arg.arg for arg in node.args.args if arg.arg in FIXTURES}
    return used


def fixtures_declared(course: Course) -> list[str]:
    """A lesson's `fixtures` are the grading fixtures its tests take, no more and no fewer."""
    from ..grading.fixtures import FIXTURES

    problems = []
    for lesson in course.lessons:
        unknown = sorted(set(lesson.fixtures) - set(FIXTURES))
        if unknown:
            problems.append(f"{lesson.short}: fixtures {', '.join(unknown)} are not in course.grading.fixtures.FIXTURES")
        used = fixtures_used(course, lesson)
        if used != set(lesson.fixtures) and not unknown:
            problems.append(f"{lesson.short}: its tests take the fixtures {sorted(used)}; course.toml says "
                            f"{sorted(lesson.fixtures)}")
    return problems


def verbs_exist(course: Course) -> list[str]:
    """Every verb and benchmark a lesson owns is a real `course` command."""
    from ..cli.main import cli
    from ..cli.verbs import bench_modes, find_command

    problems = []
    modes = bench_modes()
    for lesson in course.all_lessons:
        for verb in lesson.verbs:
            if find_command(cli, verb.split()) is None:
                problems.append(f"{lesson.short}: `course {verb}` is not a command (course --help lists them)")
        for mode in lesson.benchmarks:
            if mode not in modes:
                problems.append(f"{lesson.short}: `course bench {mode}` is not a benchmark; they are {', '.join(modes)}")
    return problems


def exercises_generated(course: Course) -> list[str]:
    from ..exercises.generate import out_of_sync

    return [f"exercises/ differs from what solutions/ gives: {path} (run `course exercises build`)"
            for path in out_of_sync(course)]


def lessons_independent(course: Course) -> list[str]:
    """A lesson's packages import the shared layer and their own lesson's code, never another lesson's (except the
    earlier lessons it names in ``builds_on``: the capstone puts them together)."""
    problems = []
    packages = {package.replace("/", "."): lesson for lesson in course.all_lessons for package in lesson.packages
                if package not in course.shared}
    for package, lesson in packages.items():
        folder = course.root / package.replace(".", "/")
        if not folder.is_dir():
            continue  # a planned lesson's package, not written yet
        for path in sorted(folder.rglob("*.py")):
            reported = set()
            for imported in sorted(_imports(path, package)):  # a module before the names taken from it
                owner = next((p for p in packages if imported == p or imported.startswith(p + ".")), None)
                if (owner and packages[owner] is not lesson and packages[owner].short not in lesson.builds_on
                        and owner not in reported):
                    reported.add(owner)
                    problems.append(f"{path.relative_to(course.root)} imports {imported}, which belongs to "
                                    f"{packages[owner].short}: move what both use into the shared layer")
    return problems


def _imports(path: Path, package: str) -> set[str]:
    """Absolute names of the modules ``path`` imports (relative imports resolved within ``package``)."""
    parts = path.with_suffix("").parts
    here = package.split(".")
    # the module's own dotted name, from the package's folder down
    start = len(parts) - 1 - parts[::-1].index(here[-1])
    module = [*here, *parts[start + 1:]]
    if module[-1] == "__init__":
        module = module[:-1]
        base = module
    else:
        base = module[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base[:len(base) - node.level + 1]
                name = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                name = node.module or ""
            found.add(name)
            found |= {f"{name}.{alias.name}" for alias in node.names}
    return found


def translations_keep_the_english(course: Course) -> list[str]:
    """Every translated page keeps its English page's code, anchors and links, and course.LANG.toml matches
    course.toml (a stale translation is not a problem here: `course dev translations` lists those)."""
    from .translations import LANGUAGES, companion_problems, translations

    problems = [f"{t.path.relative_to(course.root)}: {problem}"
                for t in translations(course.root / "lessons") for problem in t.problems]
    for lang in LANGUAGES:
        path = course.root / f"course.{lang}.toml"
        if path.is_file():
            problems += [f"{path.name}: {problem}" for problem in companion_problems(path, course)[0]]
    return problems


CHECKS: dict[str, Callable[[Course], list[str]]] = {
    "generated lesson lists": stale,
    "benchmark tables match their committed data": bench_stale,
    "lesson folders": lesson_folders,
    "extras": extras_exist,
    "grading fixtures": fixtures_declared,
    "commands": verbs_exist,
    "exercises generated": exercises_generated,
    "lessons import the shared layer, not each other": lessons_independent,
    "translations keep the English page's code, anchors and links": translations_keep_the_english,
}


def run_checks(course: Course) -> dict[str, list[str]]:
    """Every check's problems, by the check's name."""
    return {name: check(course) for name, check in CHECKS.items()}
