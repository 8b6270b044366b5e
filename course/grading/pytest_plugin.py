"""The tests' side of the protocol with the grading supervisor (``course.grading.supervisor``).

Loaded with ``-p course.grading.pytest_plugin --course-protocol FD``. It reads its
settings from the inherited pipe ``FD`` (JSON: the events pipe's file
descriptor, a key, the tests to run, the time limits) and closes it; then, for
every test, it writes two JSON lines to the events pipe: ``start`` (with the
test's time limit: a test that takes a real-model fixture gets the longer one)
and ``end``, each signed with the key (HMAC-SHA256).

The process this plugin runs in holds no code of the submission: under the
supervisor, ``target.load`` imports the learner's modules in a separate,
sandboxed process (:mod:`course.grading.isolation`) and every call crosses as
plain values (:mod:`course.grading.remote`). So the outcome of a test is
decided where the submission cannot reach. The signature and the check that
the test body itself ran to its end (in ``pytest_pyfunc_call``, with the same
function object collected) are a second line, kept for the old in-process
path that ``course bench grading`` measures.

It also marks each test with its exercise (``l00_3`` ...), the way minitorch
names its tasks, so ``-m l00_3`` selects one exercise.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from pathlib import Path

import pytest

from ..exercises.meta import load_course
from .fixtures import FIXTURES
from .remote import SubmissionDied


def sign(key: bytes, event: dict) -> str:
    body = json.dumps({k: v for k, v in event.items() if k != "sig"}, sort_keys=True)
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


def pytest_addoption(parser):
    parser.getgroup("course").addoption(
        "--course-protocol", type=int, default=None, metavar="FD",
        help="report to the grading supervisor; read the settings from this file descriptor",
    )


def pytest_configure(config):
    course = load_course()
    for lesson in course.lessons:
        for ex in lesson.exercises:
            config.addinivalue_line("markers", f"{ex.id.replace('.', '_')}: exercise {ex.id}, {ex.title}")
    config.pluginmanager.register(ExerciseMarker(course), "course-exercise-marker")
    fd = config.getoption("--course-protocol")
    if fd is not None:
        config.pluginmanager.register(_make_reporter(_read_settings(fd)), "course-grading-reporter")


def _read_settings(fd: int) -> dict:
    """Read the settings pipe to its end and close it, before any submission code is imported."""
    raw = bytearray()
    while chunk := os.read(fd, 65536):
        raw += chunk
    os.close(fd)
    return json.loads(raw)


class ExerciseMarker:
    def __init__(self, course):
        self.course = course

    def pytest_collection_modifyitems(self, items):
        slugs = {lesson.slug: lesson for lesson in self.course.lessons}
        for item in items:
            slug = next((p for p in Path(str(item.fspath)).parts if p in slugs), None)
            found = slugs[slug].test_points().get(item.originalname) if slug else None
            if found is not None:
                item.add_marker(getattr(pytest.mark, found[0].id.replace(".", "_")))


def _make_reporter(settings: dict):
    """The reporter keeps its key and pipe in a closure, not in attributes a submission could read easily."""
    key = bytes.fromhex(settings["key"])
    fd = settings["fd"]
    wanted = set(settings["tests"])
    write = os.write
    collected: dict[str, object] = {}
    completed: dict[str, int] = {}  # test name -> cases whose body ran to the end
    n_cases: dict[str, int] = {}
    failures: dict[str, tuple[str, str]] = {}
    first_case: dict[str, str] = {}
    last_case: dict[str, str] = {}

    def emit(event: dict) -> None:
        event["sig"] = sign(key, event)
        data = (json.dumps(event) + "\n").encode()
        while data:
            data = data[write(fd, data):]

    class Reporter:
        @pytest.hookimpl(trylast=True)
        def pytest_collection_modifyitems(self, session, config, items):
            keep = [item for item in items if item.originalname in wanted]
            drop = [item for item in items if item.originalname not in wanted]
            if drop:
                config.hook.pytest_deselected(items=drop)
            items[:] = keep
            for item in keep:
                collected[item.originalname] = getattr(item, "obj", None)
                last_case[item.originalname] = item.nodeid  # a parametrized test ends with its last case
                first_case.setdefault(item.originalname, item.nodeid)
                n_cases[item.originalname] = n_cases.get(item.originalname, 0) + 1

        def pytest_collectreport(self, report):
            if report.failed:
                emit({"e": "collect_error", "where": report.nodeid, "m": str(report.longrepr)[-1500:]})

        @pytest.hookimpl(tryfirst=True)
        def pytest_runtest_protocol(self, item, nextitem):
            name = item.originalname
            if first_case.get(name, item.nodeid) == item.nodeid:
                real = bool(set(getattr(item, "fixturenames", ())) & set(FIXTURES))
                emit({"e": "start", "t": name, "limit": settings["real_model_s"] if real else settings["test_s"]})

        @pytest.hookimpl(hookwrapper=True)
        def pytest_pyfunc_call(self, pyfuncitem):
            outcome = yield
            if outcome.excinfo is None and pyfuncitem.obj is collected.get(pyfuncitem.originalname):
                completed[pyfuncitem.originalname] = completed.get(pyfuncitem.originalname, 0) + 1

        @pytest.hookimpl(hookwrapper=True)
        def pytest_runtest_makereport(self, item, call):
            result = yield
            report = result.get_result()
            name = item.originalname
            if (report.failed or report.skipped) and name not in failures:
                kind = "skipped" if report.skipped else ("failed" if report.when == "call" else "error")
                if call.excinfo is not None and call.excinfo.errisinstance(SubmissionDied):
                    kind = "crashed"  # the submission's process ended during the test (os._exit, a segfault, ...)
                text = call.excinfo.exconly() if call.excinfo is not None else str(report.longrepr)
                case = getattr(getattr(item, "callspec", None), "id", None)
                failures[name] = (kind, (f"[case {case}] " if case else "") + text[:1500])
            if report.when == "teardown" and last_case.get(name, item.nodeid) == item.nodeid:
                # one outcome per test function: every parametrized case has run, and any failure fails it
                if name in failures:
                    outcome, message = failures[name]
                elif completed.get(name, 0) == n_cases.get(name, 1):
                    outcome, message = "passed", ""
                else:
                    outcome, message = "failed", "the test body did not run to completion under the grader"
                emit({"e": "end", "t": name, "o": outcome, "m": message, "doc": (item.function.__doc__ or "").strip()})

    return Reporter()

