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


STATUSES = ("ready", "planned")


@dataclass(frozen=True)
class Extra:
    """An optional part of the install (an extra of pyproject.toml) and the modules that show it is there."""

    name: str
    about: str
    modules: tuple[str, ...]

    @property
    def pip(self) -> str:
        return f'pip install -e ".[{self.name}]"'


@dataclass(frozen=True)
class Lesson:
    slug: str
    short: str
    title: str
    page: str
    exercises: tuple[Exercise, ...] = field(default_factory=tuple)
    status: str = "ready"
    nav: str = ""  # its short name in the site's navigation
    summary: str = ""  # one line for the lessons table
    packages: tuple[str, ...] = ()  # folders of course/ that hold its teaching code
    verbs: tuple[str, ...] = ()  # `course` verbs it owns ("serve", "deploy check")
    benchmarks: tuple[str, ...] = ()  # `course bench` modes it owns
    extras: tuple[str, ...] = ()  # names of [extra.*] it uses
    fixtures: tuple[str, ...] = ()  # grading fixtures its tests take
    builds_on: tuple[str, ...] = ()  # earlier lessons (short names) whose packages its own may import: the capstone

    @property
    def number(self) -> int:
        return int(self.short[1:])

    @property
    def ready(self) -> bool:
        return self.status == "ready"

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
    lessons: tuple[Lesson, ...]  # the ready ones, which have exercises and tests
    planned: tuple[Lesson, ...] = ()  # declared, not written yet
    extras: dict[str, Extra] = field(default_factory=dict)
    shared: tuple[str, ...] = ()  # lesson packages every lesson may import (course/agent ...)

    @property
    def all_lessons(self) -> tuple[Lesson, ...]:
        """Ready and planned lessons, in the order of their numbers."""
        return tuple(sorted((*self.lessons, *self.planned), key=lambda lesson: lesson.number))

    def lesson(self, name: str) -> Lesson:
        """A ready lesson by slug, short name (``l00``) or number (``0``)."""
        for lesson in self.all_lessons:
            if name in (lesson.slug, lesson.short) or (name.isdigit() and int(name) == lesson.number):
                if not lesson.ready:
                    raise CourseError(f"lesson {lesson.short} ({lesson.title}) is planned, not written yet; "
                                      "`course lessons` lists the ready ones")
                return lesson
        known = ", ".join(f"{l.short} ({l.slug})" for l in self.lessons)
        raise CourseError(f"unknown lesson '{name}': the lessons are {known} (see `course lessons`)")

    def exercise(self, exercise_id: str) -> Exercise:
        for lesson in self.lessons:
            for ex in lesson.exercises:
                if ex.id == exercise_id:
                    return ex
        raise CourseError(f"unknown exercise '{exercise_id}' (see `course lessons`)")

    def find(self, name: str) -> tuple[Lesson, Exercise | None]:
        """A lesson or one of its exercises: ``l00``, ``0`` or a slug names a lesson, ``l00.1`` an exercise."""
        if "." in name:
            ex = self.exercise(name)
            return self.lesson(ex.lesson), ex
        return self.lesson(name), None

    def exercises_in_order(self) -> tuple[Exercise, ...]:
        return tuple(ex for lesson in self.lessons for ex in lesson.exercises)

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
    extras = {}
    for name, raw in data.get("extra", {}).items():
        extras[name] = Extra(name, raw.get("about", ""), tuple(_required(raw, "modules", f"extra.{name}")))
    lessons = []
    seen_tests: set[tuple[str, str]] = set()
    for i, raw in enumerate(data.get("lesson", [])):
        slug = _required(raw, "slug", f"lesson {i}")
        status = raw.get("status", "ready")
        if status not in STATUSES:
            raise CourseError(f"{META_FILE}: {slug} has status '{status}'; use one of {', '.join(STATUSES)}")
        unknown = [e for e in raw.get("extras", ()) if e not in extras]
        if unknown:
            raise CourseError(f"{META_FILE}: {slug} uses extra(s) {', '.join(unknown)} that no [extra.NAME] declares")
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
        short = _required(raw, "short", slug)
        if not (short[:1] == "l" and short[1:].isdigit() and slug.startswith(short + "_")):
            raise CourseError(f"{META_FILE}: {slug} has short name '{short}'; it must be 'l' and the lesson's "
                              "number, and the slug must start with it (l04 and l04_edge_runtimes)")
        if status == "planned" and exercises:
            raise CourseError(f"{META_FILE}: {slug} is planned but has exercises; set status = \"ready\"")
        lessons.append(Lesson(
            slug, short, _required(raw, "title", slug), _required(raw, "page", slug), tuple(exercises),
            status=status, nav=raw.get("nav", ""), summary=raw.get("summary", ""),
            packages=tuple(raw.get("packages", ())), verbs=tuple(raw.get("verbs", ())),
            benchmarks=tuple(raw.get("benchmarks", ())), extras=tuple(raw.get("extras", ())),
            fixtures=tuple(raw.get("fixtures", ())), builds_on=tuple(raw.get("builds_on", ())),
        ))
    for lesson in lessons:
        earlier = {other.short for other in lessons if other.number < lesson.number}
        wrong = [name for name in lesson.builds_on if name not in earlier]
        if wrong:
            raise CourseError(f"{META_FILE}: {lesson.slug} builds_on {', '.join(wrong)}: a lesson builds only on "
                              "earlier lessons, named by their short name (l05)")
    for attr in ("slug", "short"):
        names = [getattr(lesson, attr) for lesson in lessons]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise CourseError(f"{META_FILE}: lesson {attr} listed twice: {', '.join(twice)}")
    return Course(root, data.get("course", {}).get("title", "course"),
                  tuple(sorted((lesson for lesson in lessons if lesson.ready), key=lambda lesson: lesson.number)),
                  tuple(lesson for lesson in lessons if not lesson.ready), extras,
                  tuple(data.get("course", {}).get("shared", ())))


@lru_cache(maxsize=8)
def _load(root: Path) -> Course:
    return parse_course(root)


def load_course(root: Path | None = None) -> Course:
    """The parsed ``course.toml`` of ``root`` (default: :func:`find_root`)."""
    return _load((root or find_root()).resolve())
