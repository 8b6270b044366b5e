"""The folder a submission is graded in, built fresh for every run.

A sandbox holds only what grading needs and nothing a submission could use to
cheat:

- ``lib/course/``: a copy of the course package, first on ``PYTHONPATH``, so the
  child never imports the checkout (which holds ``solutions/``);
- ``course.toml`` and ``autograder/`` with only the tests of this run (the public
  run never contains the hidden tests);
- ``submission/<lesson>/``: the submission's files for the lesson, and only the
  files ``course.toml`` names (a shipped ``conftest.py`` or ``json.py`` is left
  behind);
- ``work/``: the child's working directory.

Everything is copied from a :class:`CourseSnapshot` taken once, in memory, before
any submission runs, so a submission that writes into the course's own files
cannot change how later submissions are graded.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..exercises.meta import META_FILE, Course, Lesson

PACKAGE_SKIP = {"__pycache__"}


@dataclass(frozen=True)
class CourseSnapshot:
    """The bytes of everything a sandbox is built from, read once."""

    meta: bytes
    package: dict[str, bytes]  # path relative to the package's parent -> bytes
    autograder: dict[str, bytes]  # path relative to autograder/ -> bytes

    @classmethod
    def take(cls, course: Course) -> CourseSnapshot:
        pkg_root = Path(__file__).resolve().parents[1]
        package = {
            p.relative_to(pkg_root.parent).as_posix(): p.read_bytes()
            for p in pkg_root.rglob("*") if p.is_file() and not PACKAGE_SKIP & set(p.parts) and p.suffix != ".pyc"
        }
        ag = course.autograder_dir
        autograder = {
            p.relative_to(ag).as_posix(): p.read_bytes()
            for p in ag.rglob("*") if p.is_file() and not PACKAGE_SKIP & set(p.parts) and p.suffix != ".pyc"
        }
        return cls((course.root / META_FILE).read_bytes(), package, autograder)


def digest(files: dict[str, bytes]) -> str:
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return h.hexdigest()


def folder_files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


def notebook_modules(path: Path, allowed: set[str]) -> tuple[dict[str, bytes], list[str]]:
    """The lesson files a notebook of the course holds: each ``%%module NAME`` cell is ``NAME.py``.

    This is how `course grade` grades a class that worked in notebooks, with the same isolation as files: the
    notebook is read as JSON and never run by the grader."""
    import json

    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return {}, [f"{path.name} is not a readable notebook ({type(exc).__name__}); nothing was taken from it"]
    files: dict[str, bytes] = {}
    for cell in cells if isinstance(cells, list) else []:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        first, _, body = source.partition("\n")
        parts = first.split()
        if len(parts) == 2 and parts[0] == "%%module" and f"{parts[1]}.py" in allowed:
            files[f"{parts[1]}.py"] = body.encode()
    notes = [f"read from the notebook {path.name}: {', '.join(sorted(files)) or 'no %%module cell of the lesson'}"]
    return files, notes


def submission_files(lesson: Lesson, folder: Path | None) -> tuple[dict[str, bytes], list[str]]:
    """The allowed files of a lesson from a submission folder, and notes on what was left out.

    A folder with none of the lesson's files but a notebook of the lesson (``<lesson>.ipynb``, or the only
    notebook there) is graded from the notebook's ``%%module`` cells."""
    notes: list[str] = []
    if folder is None or not folder.is_dir():
        return {}, [f"no folder for {lesson.slug} in the submission"]
    allowed = {"__init__.py", *(ex.file for ex in lesson.exercises)}
    if not any((folder / name).is_file() for name in allowed):
        books = sorted(p for p in folder.glob("*.ipynb") if p.is_file() and not p.is_symlink())
        book = folder / f"{lesson.slug}.ipynb" if (folder / f"{lesson.slug}.ipynb") in books else (
            books[0] if len(books) == 1 else None)
        if book is not None:
            return notebook_modules(book, allowed)
    files = {}
    for name in sorted(allowed):
        path = folder / name
        if path.is_file() and not path.is_symlink():
            files[name] = path.read_bytes()
        elif path.is_symlink():
            notes.append(f"{name} is a symbolic link and was not graded")
    if not files:
        notes.append(f"no folder for {lesson.slug}: none of its files ({', '.join(sorted(allowed))}) were found")
    extra = sorted(p.name for p in folder.iterdir() if p.name not in allowed and p.name != "__pycache__")
    if extra:
        notes.append("ignored (not part of the lesson): " + ", ".join(extra))
    return files, notes


@dataclass
class Sandbox:
    root: Path
    lesson: Lesson
    tests: list[Path]  # test files inside root/autograder
    submission: dict[str, bytes]
    test_files: dict[str, bytes]

    @property
    def lib(self) -> Path:
        return self.root / "lib"

    @property
    def target(self) -> Path:
        return self.root / "submission"

    @property
    def autograder(self) -> Path:
        return self.root / "autograder"

    @property
    def work(self) -> Path:
        return self.root / "work"

    @property
    def exchange(self) -> Path:
        """The tests' temporary folder (``tmp_path``, ``TMPDIR``), shared with the submission's process."""
        return self.root / "exchange"

    def restore(self) -> None:
        """Put the tests and the submission's files back as they were built (before every child starts).

        Without this, a submission could rewrite the tests and then crash on purpose,
        so that the restarted child collects the rewritten tests.
        """
        for rel, data in self.test_files.items():
            _write(self.autograder / rel, data, replace=True)
        for rel, data in self.submission.items():
            _write(self.target / self.lesson.slug / rel, data, replace=True)
        for folder in (self.autograder, self.target / self.lesson.slug):
            known = self.test_files if folder == self.autograder else self.submission
            for path in sorted(folder.rglob("*"), reverse=True):
                rel = path.relative_to(folder).as_posix()
                if path.is_file() and rel not in known or path.is_symlink():
                    path.unlink()

    def tampered(self) -> list[str]:
        """What changed on disk during the run: the tests or the submission's files."""
        changed = []
        now_tests = {k: v for k, v in folder_files(self.autograder).items()}
        if digest(now_tests) != digest(self.test_files):
            changed.append("the test files")
        now_sub = {k: v for k, v in folder_files(self.target / self.lesson.slug).items() if k in self.submission}
        if digest(now_sub) != digest(self.submission) or set(now_sub) != set(self.submission):
            changed.append("the submission's files")
        return changed


def build_sandbox(snapshot: CourseSnapshot, lesson: Lesson, submission: dict[str, bytes], *,
                  hidden: bool, parent: Path | None = None) -> Sandbox:
    """A fresh sandbox for the public (``hidden=False``) or the hidden tests of one lesson."""
    root = Path(tempfile.mkdtemp(prefix="course-grade-", dir=parent))
    (root / META_FILE).write_bytes(snapshot.meta)
    for rel, data in snapshot.package.items():
        _write(root / "lib" / rel, data)
    prefix = f"{lesson.slug}/hidden/" if hidden else f"{lesson.slug}/"
    test_files = {}
    for rel, data in snapshot.autograder.items():
        top_level = "/" not in rel  # conftest.py, pytest.ini
        ours = rel.startswith(prefix) and (hidden or "/hidden/" not in rel[len(lesson.slug):])
        if top_level or ours:
            test_files[rel] = data
            _write(root / "autograder" / rel, data)
    for rel, data in submission.items():
        _write(root / "submission" / lesson.slug / rel, data)
    (root / "submission" / lesson.slug).mkdir(parents=True, exist_ok=True)
    (root / "work").mkdir()
    (root / "exchange").mkdir()
    tests = sorted((root / "autograder").glob(f"{prefix}test_*.py"))
    return Sandbox(root, lesson, tests, dict(submission), test_files)


def _write(path: Path, data: bytes, *, replace: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if replace and (path.exists() or path.is_symlink()):
        path.unlink()
    path.write_bytes(data)
    os.chmod(path, 0o444)  # read-only: a careless write fails (a determined one is caught by tampered())
