"""A pytest plugin that records each graded test's outcome for the grading runner.

Loaded with ``-p course.grading.pytest_plugin``. It adds two options:
``--course-results FILE`` (where to write the outcomes as JSON) and
``--course-test-timeout SECONDS`` (a per-test time limit, so one endless loop
costs one test, not the whole grade). It also marks each test with its
exercise (``l00_3`` ...), as named in ``course.toml``, so ``-m l00_3`` runs one
exercise, the way minitorch names its tasks.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from ..exercises.meta import load_course


class TestTimeout(Exception):
    """A graded test ran past its time limit."""


def pytest_addoption(parser):
    group = parser.getgroup("course")
    group.addoption("--course-results", default=None, help="write graded outcomes as JSON to this file")
    group.addoption("--course-test-timeout", type=float, default=0, help="per-test time limit in seconds")


def pytest_configure(config):
    course = load_course()
    for lesson in course.lessons:
        for ex in lesson.exercises:
            config.addinivalue_line("markers", f"{ex.id.replace('.', '_')}: exercise {ex.id}, {ex.title}")
    config.pluginmanager.register(GradingRecorder(config, course), "course-grading-recorder")


def _time_limit(limit: float):
    """Raise TestTimeout in the main thread after ``limit`` seconds (a no-op when 0)."""

    class Limit:
        def __enter__(self):
            if limit and hasattr(signal, "SIGALRM"):
                def expire(signum, frame):
                    raise TestTimeout(f"the test ran longer than {limit:g} s (an endless loop?)")

                self.previous = signal.signal(signal.SIGALRM, expire)
                signal.setitimer(signal.ITIMER_REAL, limit)
            return self

        def __exit__(self, *exc):
            if limit and hasattr(signal, "SIGALRM"):
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, self.previous)
            return False

    return Limit()


class GradingRecorder:
    """Collects outcomes per test name and writes them when the session ends."""

    def __init__(self, config, course):
        self.config = config
        self.course = course
        self.outcomes: dict[str, dict] = {}
        self.collect_errors: list[dict] = []

    def pytest_collection_modifyitems(self, items):
        slugs = {lesson.slug: lesson for lesson in self.course.lessons}
        for item in items:
            slug = next((p for p in Path(str(item.fspath)).parts if p in slugs), None)
            if slug is None:
                continue
            found = slugs[slug].test_points().get(item.originalname)
            if found is not None:
                item.add_marker(getattr(pytest.mark, found[0].id.replace(".", "_")))

    def pytest_collectreport(self, report):
        if report.failed:
            self.collect_errors.append({"where": report.nodeid, "message": str(report.longrepr)[-1500:]})

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item):
        with _time_limit(self.config.getoption("--course-test-timeout")):
            yield

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        doc = getattr(getattr(item, "function", None), "__doc__", None) or ""
        entry = self.outcomes.setdefault(
            item.originalname, {"outcome": "passed", "message": "", "duration": 0.0, "doc": doc.strip()}
        )
        entry["duration"] += report.duration
        if entry["outcome"] != "passed":
            return
        if report.failed:
            entry["outcome"] = "failed" if report.when == "call" else "error"
            text = call.excinfo.exconly() if call.excinfo is not None else str(report.longrepr)
            entry["message"] = text[:1500]
        elif report.skipped:
            entry["outcome"] = "skipped"
            entry["message"] = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else ""

    def pytest_sessionfinish(self, session, exitstatus):
        path = self.config.getoption("--course-results")
        if path:
            Path(path).write_text(json.dumps({"tests": self.outcomes, "collect_errors": self.collect_errors}))
