"""Shared fixtures of the library's tests, and the one place the ``real_model`` marker is set.

A test runs a real model (and is marked ``real_model``, so ``-m "not real_model"`` leaves it out) when it
lives in ``tests/integration/`` or takes one of :data:`REAL_MODEL_FIXTURES`; nothing marks it by hand.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course.exercises import load_course

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def course():
    return load_course(ROOT)


# Fixtures that hand a test a real model, a real model's file or a server running one.
REAL_MODEL_FIXTURES = frozenset({"smollm2", "model_file", "course_server", "local_runtime", "onnx_decoder"})


def pytest_collection_modifyitems(config, items):
    for item in items:
        in_integration = Path(str(item.fspath)).parent.name == "integration"
        if in_integration or REAL_MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.real_model)


@pytest.fixture(scope="session")
def model_file():
    """The path of a shipped model by alias (``model_file("smollm2-135m")``), for tests that run llama.cpp on it."""
    from course.models import model_path

    return model_path


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
    for companion in ROOT.glob("course.*.toml"):  # course.toml's texts in the other languages
        shutil.copy(companion, dest / companion.name)
    monkeypatch.setenv("COURSE_ROOT", str(dest))
    return dest


@pytest.fixture(scope="session")
def built_site(tmp_path_factory):
    """The lesson site built once per session with ``mkdocs build --strict``: (the finished process, its folder).

    Every test of the built site takes this one build (tests/course/test_lessons.py, test_site_browser.py,
    test_release_hides.py); a test that needs a good build fails with mkdocs' own words when it is not.
    """
    from extras import require_extra

    require_extra("site")
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "site" / "mkdocs.yml"), "-d", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    return proc, out


@pytest.fixture(scope="session")
def site_folder(built_site) -> Path:
    """The built site's folder, for tests that need a good build."""
    proc, out = built_site
    if proc.returncode != 0:
        pytest.fail(f"mkdocs build --strict failed:\n{proc.stderr[-3000:]}", pytrace=False)
    return out
