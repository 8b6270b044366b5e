"""The course metadata (``course.toml``): lessons, exercises, points and hints.

This is the one declarative file that the CLI, the exercise generator, the
grader, the site and the nbgrader export all read.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

META_FILE = "course.toml"


class CourseError(Exception):
    """The course folder or its metadata is not usable; the message says how to fix it."""


def find_root(start: Path | None = None) -> Path:
    """The course folder: ``$COURSE_ROOT``, or the nearest folder above ``start`` (default:
    the working directory) that holds ``course.toml``, or the checkout this package lives in."""
    if os.environ.get("COURSE_ROOT"):
        root = Path(os.environ["COURSE_ROOT"]).resolve()
        if not (root / META_FILE).is_file():
            raise CourseError(f"COURSE_ROOT={root} has no {META_FILE}")
        return root
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / META_FILE).is_file():
            return folder
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / META_FILE).is_file():
        return checkout
    raise CourseError(
        f"no {META_FILE} found in {here} or above: run `course` inside the course checkout "
        "(git clone ... && cd edge-agents-course), or set COURSE_ROOT"
    )


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    file: str
    functions: tuple[str, ...]
    section: str
    hints: tuple[str, ...]
    tests: dict[str, int]
    hidden_tests: dict[str, int]
    lesson: str

    @property
    def number(self) -> str:
        return self.id.split(".")[-1]

    @property
    def max_points(self) -> int:
        return sum(self.tests.values()) + sum(self.hidden_tests.values())


@dataclass(frozen=True)
class Lesson:
    slug: str
    short: str
    title: str
    page: str
    exercises: tuple[Exercise, ...] = field(default_factory=tuple)

    def test_points(self, *, hidden: bool = True) -> dict[str, tuple[Exercise, int, bool]]:
        """Every test name -> (its exercise, its points, whether it is hidden)."""
        out = {}
        for ex in self.exercises:
            out.update({name: (ex, pts, False) for name, pts in ex.tests.items()})
            if hidden:
                out.update({name: (ex, pts, True) for name, pts in ex.hidden_tests.items()})
        return out

    def exercise_for_function(self, file: str, function: str) -> Exercise | None:
        for ex in self.exercises:
            if ex.file == file and function in ex.functions:
                return ex
        return None

    def section_url(self, exercise: Exercise) -> str:
        return f"{self.page}#{exercise.section}"


@dataclass(frozen=True)
class Course:
    root: Path
    title: str
    lessons: tuple[Lesson, ...]

    def lesson(self, name: str) -> Lesson:
        """A lesson by slug, short name (``l00``) or number (``0``)."""
        for lesson in self.lessons:
            if name in (lesson.slug, lesson.short) or (name.isdigit() and int(name) == int(lesson.short[1:])):
                return lesson
        known = ", ".join(f"{l.short} ({l.slug})" for l in self.lessons)
        raise CourseError(f"unknown lesson '{name}': the lessons are {known} (see `course lessons`)")

    def exercise(self, exercise_id: str) -> Exercise:
        for lesson in self.lessons:
            for ex in lesson.exercises:
                if ex.id == exercise_id:
                    return ex
        raise CourseError(f"unknown exercise '{exercise_id}' (see `course lessons`)")

    @property
    def solutions_dir(self) -> Path:
        return self.root / "solutions"

    @property
    def exercises_dir(self) -> Path:
        return self.root / "exercises"

    @property
    def autograder_dir(self) -> Path:
        return self.root / "autograder"


def _required(table: dict, key: str, where: str):
    if key not in table:
        raise CourseError(f"{META_FILE}: {where} is missing '{key}'")
    return table[key]


def parse_course(root: Path) -> Course:
    path = root / META_FILE
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise CourseError(f"{path} is not valid TOML: {exc}") from exc
    lessons = []
    seen_tests: set[tuple[str, str]] = set()
    for i, raw in enumerate(data.get("lesson", [])):
        slug = _required(raw, "slug", f"lesson {i}")
        exercises = []
        for j, ex in enumerate(raw.get("exercise", [])):
            where = f"exercise {j} of {slug}"
            exercise = Exercise(
                id=_required(ex, "id", where),
                title=_required(ex, "title", where),
                file=_required(ex, "file", where),
                functions=tuple(_required(ex, "functions", where)),
                section=_required(ex, "section", where),
                hints=tuple(ex.get("hints", ())),
                tests=dict(_required(ex, "tests", where)),
                hidden_tests=dict(ex.get("hidden_tests", {})),
                lesson=slug,
            )
            for name in [*exercise.tests, *exercise.hidden_tests]:
                if (slug, name) in seen_tests:
                    raise CourseError(f"{META_FILE}: test '{name}' is listed twice in {slug}")
                seen_tests.add((slug, name))
            exercises.append(exercise)
        lessons.append(Lesson(slug, _required(raw, "short", slug), _required(raw, "title", slug),
                              _required(raw, "page", slug), tuple(exercises)))
    return Course(root, data.get("course", {}).get("title", "course"), tuple(lessons))


@lru_cache(maxsize=8)
def _load(root: Path) -> Course:
    return parse_course(root)


def load_course(root: Path | None = None) -> Course:
    """The parsed ``course.toml`` of ``root`` (default: :func:`find_root`)."""
    return _load((root or find_root()).resolve())
