"""Shared fixtures of the library's tests."""

import shutil
from pathlib import Path

import pytest

from course.exercises import load_course

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def course():
    return load_course(ROOT)


@pytest.fixture(scope="session")
def smollm2():
    from course.grading.fixtures import smollm2 as shared

    return shared()  # the same loaded model the autograder's fixtures use


@pytest.fixture
def course_copy(tmp_path, monkeypatch):
    """A private copy of the course folder (so progress files and edits never touch the checkout)."""
    dest = tmp_path / "course"
    for name in ("course.toml", "solutions", "exercises", "autograder", "lessons"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, dest / name)
    monkeypatch.setenv("COURSE_ROOT", str(dest))
    return dest
