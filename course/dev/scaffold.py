"""``course dev new-lesson SLUG``: a new lesson with every piece in place, ready to fill in.

It writes the lesson's entry in ``course.toml`` (or turns a planned entry
ready), its page with a runnable example, its package in ``course/``, a first
solution with a ``### BEGIN SOLUTION`` region, the generated exercise stub, and
an autograder test; then it rewrites the generated lesson lists. Afterwards
``course dev check`` passes and ``course check SLUG --target solutions`` gives
full points. Nothing is written if any of the files already exists.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..exercises.meta import Course, CourseError, parse_course

SLUG = re.compile(r"^l(\d{2})_[a-z0-9]+(?:_[a-z0-9]+)*$")


@dataclass
class NewLesson:
    slug: str
    title: str
    nav: str
    package: str  # a folder of course/, e.g. course/runtimes

    @property
    def short(self) -> str:
        return self.slug[:3]

    @property
    def number(self) -> str:
        return self.slug[1:3]

    @property
    def module(self) -> str:
        return self.package.replace("/", ".")

    def files(self) -> dict[str, str]:
        """Every file to write, by its path relative to the course root."""
        s, short, n = self.slug, self.short, self.number
        return {
            f"lessons/{s}/index.md": PAGE.format(n=n, title=self.title, slug=s, short=short),
            f"lessons/{s}/examples/first_look.py": EXAMPLE.format(module=self.module),
            f"{self.package}/__init__.py": PACKAGE.format(n=n, title=self.title, slug=s),
            f"solutions/{s}/__init__.py": f'"""Lesson {n}: {self.title} (solutions)."""\n',
            f"solutions/{s}/first_steps.py": SOLUTION.format(n=n, short=short),
            f"autograder/{s}/test_{short}.py": TEST.format(n=n, title=self.title),
        }

    def toml_fields(self) -> str:
        return (f'status = "ready"\nnav = {json.dumps(self.nav)}\nsummary = "to be written"\n'
                f'packages = {json.dumps([self.package])}\nverbs = []\nbenchmarks = []\nextras = []\nfixtures = []\n')

    def toml_exercise(self) -> str:
        return (f'\n  [[lesson.exercise]]\n  id = "{self.short}.1"\n  title = "A first step"\n'
                f'  file = "first_steps.py"\n  functions = ["first_step"]\n  section = "a-first-step"\n'
                f'  hints = ["Return the sentence the docstring shows, with the name in it."]\n'
                f'  tests = {{ test_first_step_names_the_learner = 1 }}\n')


PAGE = """# {title}

What you will be able to do after this lesson:

- (say what the learner can do at the end, one line each)

## A first look

Every code block on this site is a file under `lessons/{slug}/examples/` that
the tests run:

```python
--8<-- "{slug}/examples/first_look.py"
```

## A first step

(the section the first exercise points to)

## Exercises

| id | exercise | file in `exercises/{slug}/` | points (public + hidden tests) | section |
| --- | --- | --- | --- | --- |
| {short}.1 | A first step | `first_steps.py` | 1 + 0 | [A first step](#a-first-step) |

```console
$ course check {short}
$ course hint {short}.1
```

## Summary

(what the lesson showed, in a few lines)
"""

EXAMPLE = '''"""A first look at the lesson's package: replace with the lesson's first runnable example."""

import {module} as lesson

print(lesson.__doc__.strip().splitlines()[0])
'''

PACKAGE = '''"""Lesson {n}: {title}.

The reference code of ``lessons/{slug}``: what the page teaches and the
exercises are graded against. It imports the course's shared layer
(``course.backends``, ``course.models`` ...), never another lesson's package.
"""
'''

SOLUTION = '''"""Lesson {n}, exercise {short}.1: a first step (written by `course dev new-lesson`; replace it)."""


def first_step(name: str) -> str:
    """Greet ``name``: ``first_step("Ada")`` is ``"Hello, Ada: lesson {n} starts here."``."""
    ### BEGIN SOLUTION
    return f"Hello, {{name}}: lesson {n} starts here."
    ### END SOLUTION
'''

TEST = '''"""Autograder for lesson {n}: {title}."""


def test_first_step_names_the_learner(target):
    assert target.load("first_steps").first_step("Ada") == "Hello, Ada: lesson {n} starts here."
'''


def _lesson_block_end(text: str, slug: str) -> tuple[int, int]:
    """(start, end) of the ``[[lesson]]`` block of ``slug`` in course.toml's text."""
    start = text.index(f'[[lesson]]\nslug = "{slug}"')
    following = text.find("\n[[lesson]]\n", start + 1)
    return start, (following + 1 if following >= 0 else len(text))


def _toml_with(text: str, lesson: NewLesson, course: Course) -> str:
    """course.toml's text with ``lesson`` ready: a planned entry turned ready, or a new entry in number order."""
    planned = next((p for p in course.planned if p.slug == lesson.slug), None)
    if planned:
        start, end = _lesson_block_end(text, lesson.slug)
        block = text[start:end].rstrip("\n").replace('status = "planned"', 'status = "ready"', 1)
        return text[:start] + block + "\n" + lesson.toml_exercise() + "\n" + text[end:]
    block = (f'[[lesson]]\nslug = "{lesson.slug}"\nshort = "{lesson.short}"\ntitle = {json.dumps(lesson.title)}\n'
             f'page = "lessons/{lesson.slug}/index.md"\n' + lesson.toml_fields() + lesson.toml_exercise() + "\n")
    later = [other for other in course.all_lessons if other.number > int(lesson.number)]
    if later:
        start, _ = _lesson_block_end(text, later[0].slug)
        return text[:start] + block + text[start:]
    return text.rstrip("\n") + "\n\n" + block


def new_lesson(root: Path, slug: str, title: str | None = None, nav: str | None = None) -> list[Path]:
    """Write a new lesson (see the module's docstring); return the files written."""
    from ..exercises.generate import write_lesson
    from .sync import sync

    if not SLUG.match(slug):
        raise CourseError(f"'{slug}' is not a lesson slug: 'l', two digits, '_', then lower-case words "
                          "joined by '_' (l04_edge_runtimes)")
    course = parse_course(root.resolve())  # not load_course: its cache may hold an older file
    existing = next((lesson for lesson in course.all_lessons if lesson.short == slug[:3]), None)
    if existing and (existing.ready or existing.slug != slug):
        raise CourseError(f"{slug[:3]} is already {existing.slug} ({existing.status}) in course.toml")
    words = slug[4:].replace("_", " ")
    lesson = NewLesson(
        slug, title or (existing.title if existing else words.capitalize()),
        nav or (existing.nav if existing and existing.nav else words.capitalize()),
        existing.packages[0] if existing and existing.packages else f"course/{slug[4:]}",
    )
    files = {root / rel: text for rel, text in lesson.files().items()}
    clash = [str(p.relative_to(root)) for p in files if p.exists()]
    if clash:
        raise CourseError(f"not writing {slug}: these files exist already: {', '.join(clash)}")
    toml = root / "course.toml"
    new_toml = _toml_with(toml.read_text(), lesson, course)
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    toml.write_text(new_toml)
    course = parse_course(root.resolve())
    written = [*files, toml, *write_lesson(course, course.lesson(slug))]
    return written + sync(course)
