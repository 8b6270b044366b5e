"""Generate ``exercises/`` from ``solutions/``.

A solution file is ordinary Python in which the parts a learner writes sit
between nbgrader's markers, ``### BEGIN SOLUTION`` and ``### END SOLUTION``.
Each region becomes a stub that raises ``NotImplementedError`` naming the
exercise and the lesson section to read. Regions must lie inside a function
body (a stub at module level would break the whole module on import), and
every function that holds one must be listed under an exercise in
``course.toml``: the generator refuses anything else.
"""

from __future__ import annotations

import ast
import shutil
from dataclasses import dataclass
from pathlib import Path

from .meta import Course, CourseError, Lesson

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
SKIP = {"__pycache__"}


@dataclass
class Region:
    start: int  # line index of BEGIN (0-based)
    end: int  # line index of END
    function: str


def find_regions(source: str, filename: str) -> list[Region]:
    """The solution regions of ``source``, each with the function that holds it."""
    lines = source.splitlines()
    try:
        tree = ast.parse(source, filename)
    except SyntaxError as exc:
        raise CourseError(f"{filename} does not parse: {exc}") from exc
    functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    regions, start = [], None
    for i, line in enumerate(lines):
        marker = line.strip()
        if marker == BEGIN:
            if start is not None:
                raise CourseError(f"{filename}:{i + 1}: {BEGIN} inside another region")
            start = i
        elif marker == END:
            if start is None:
                raise CourseError(f"{filename}:{i + 1}: {END} without {BEGIN}")
            # The BEGIN comment precedes a statement of its function; END trails the last one.
            holders = [f for f in functions if f.lineno < start + 1 <= (f.end_lineno or 0)]
            if line[: len(line) - len(line.lstrip())] != lines[start][: len(lines[start]) - len(lines[start].lstrip())]:
                raise CourseError(f"{filename}:{i + 1}: {END} must have the indentation of its {BEGIN}")
            if not holders:
                raise CourseError(
                    f"{filename}:{start + 1}: a solution region must sit inside a function body "
                    "(a stub at module level would break every exercise of the file)"
                )
            innermost = max(holders, key=lambda f: f.lineno)
            regions.append(Region(start, i, innermost.name))
            start = None
    if start is not None:
        raise CourseError(f"{filename}:{start + 1}: {BEGIN} without {END}")
    return regions


def stub_source(source: str, filename: str, lesson: Lesson) -> str:
    """``source`` with every solution region replaced by a pointing stub."""
    lines = source.splitlines()
    out: list[str] = []
    last = 0
    for region in find_regions(source, filename):
        exercise = lesson.exercise_for_function(Path(filename).name, region.function)
        if exercise is None:
            raise CourseError(
                f"{filename}: function '{region.function}' has a solution region but no exercise in "
                f"course.toml lists it (add it to the 'functions' of an exercise with file = "
                f"\"{Path(filename).name}\")"
            )
        indent = lines[region.start][: len(lines[region.start]) - len(lines[region.start].lstrip())]
        out.extend(lines[last:region.start])
        out.append(f"{indent}# YOUR CODE HERE: exercise {exercise.id}, {exercise.title}")
        out.append(
            f'{indent}raise NotImplementedError("exercise {exercise.id}: read {lesson.section_url(exercise)}, '
            f'then run `course check {lesson.short}`")'
        )
        last = region.end + 1
    out.extend(lines[last:])
    return "\n".join(out) + "\n"


def lesson_files(course: Course, lesson: Lesson) -> dict[str, str]:
    """Relative path -> generated text for every file of the lesson's exercise package."""
    src = course.solutions_dir / lesson.slug
    if not src.is_dir():
        raise CourseError(f"lesson {lesson.slug} has no solutions folder {src}")
    files = {}
    for path in sorted(src.rglob("*")):
        if path.is_dir() or SKIP & set(path.parts) or path.suffix in {".pyc"}:
            continue
        rel = path.relative_to(src).as_posix()
        text = path.read_text()
        files[rel] = stub_source(text, f"solutions/{lesson.slug}/{rel}", lesson) if path.suffix == ".py" else text
    return files


def out_of_sync(course: Course) -> list[str]:
    """Files of ``exercises/`` that differ from what the generator makes (empty when in sync)."""
    problems = []
    for lesson in course.lessons:
        dest = course.exercises_dir / lesson.slug
        expected = lesson_files(course, lesson)
        actual = {
            p.relative_to(dest).as_posix()
            for p in dest.rglob("*") if p.is_file() and not SKIP & set(p.parts)
        } if dest.is_dir() else set()
        for rel, text in expected.items():
            path = dest / rel
            if not path.is_file() or path.read_text() != text:
                problems.append(f"exercises/{lesson.slug}/{rel}")
        problems.extend(f"exercises/{lesson.slug}/{rel} (not made by the generator)" for rel in sorted(actual - set(expected)))
    return problems


def write_lesson(course: Course, lesson: Lesson, dest_root: Path | None = None) -> list[Path]:
    """Write the lesson's exercise package (replacing what is there); returns the files written."""
    dest = (dest_root or course.exercises_dir) / lesson.slug
    files = lesson_files(course, lesson)
    if dest.exists():
        shutil.rmtree(dest)
    written = []
    for rel, text in files.items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    return written


def build(course: Course) -> list[Path]:
    """Regenerate every lesson's exercises."""
    return [p for lesson in course.lessons for p in write_lesson(course, lesson)]
