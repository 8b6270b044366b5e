"""Run a sandbox's tests in a child process and survive whatever the submission does.

The child runs the tests; the submission's code runs in a process of its own
that the child starts (under bubblewrap: :mod:`course.grading.isolation`), so
no verdict is ever made where the submission's code runs.

The supervisor, not the child, owns the limits:

- **per test**: the child announces each test on a pipe; a test still running
  after ``test_s`` seconds (an endless loop, even inside C code) gets its
  process group killed and scores 0;
- **per submission**: after ``submission_s`` seconds the child is killed and
  the tests not yet run score 0;
- **memory**: ``RLIMIT_AS`` caps the child's address space, so a runaway
  allocation is a ``MemoryError`` in the child, not a machine out of memory;
- **crashes**: when the child dies (``os._exit``, a segfault, a kill), the test
  it was running scores 0 and a new child runs the tests that remain.

Only signed lines from the child count (see :mod:`course.grading.pytest_plugin`).
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

from ..exercises.meta import META_FILE
from ..models.registry import cache_dir
from .isolation import GRADER_ENV_KEEP, SubmissionSpec, allowed_env, choose
from .loader import SUBMISSION_ENV, TARGET_ENV
from .pytest_plugin import sign
from .sandbox import Sandbox

MAX_LINE = 1 << 16


@dataclass(frozen=True)
class Limits:
    test_s: float = 60.0
    submission_s: float = 600.0
    memory_mb: int = 4096
    threads: int | None = None  # llama.cpp threads in the child (None: all cores)
    real_model_s: float = 300.0  # a test that uses a real model (a fixture of course.grading.fixtures)
    isolation: str = "auto"  # bwrap | process | auto (course.grading.isolation)


@dataclass
class Outcome:
    outcome: str  # passed | failed | error | skipped | timeout | crashed | not run
    message: str = ""
    doc: str = ""
    duration: float = 0.0


@dataclass
class RunReport:
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    collect_errors: list[dict] = field(default_factory=list)
    restarts: int = 0
    tampered: list[str] = field(default_factory=list)
    rejected_lines: int = 0


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with status {code}"


def _spawn(sandbox: Sandbox, tests: list[str], limits: Limits, key: bytes, log, isolation: str
           ) -> tuple[subprocess.Popen, int]:
    events_read, events_write = os.pipe()
    settings_read, settings_write = os.pipe()
    # an allow-list: the tests' messages reach feedback, so no secret of the grader's environment may be there
    env = allowed_env(GRADER_ENV_KEEP)
    spec = SubmissionSpec(isolation=isolation, lib=str(sandbox.lib), meta=str(sandbox.root / META_FILE),
                          submission=str(sandbox.target), exchange=str(sandbox.exchange), memory_mb=limits.memory_mb,
                          cache=str(cache_dir().parent))
    env.update({
        "COURSE_ROOT": str(sandbox.root),
        TARGET_ENV: str(sandbox.target),
        "TMPDIR": str(sandbox.exchange),
        "PYTHONPATH": str(sandbox.lib),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        # Only the plugins named below: whatever else is installed (pytest-benchmark, anyio, ...) cannot change
        # how tests run, and pytest does not rewrite the asserts of every installed plugin's package at each
        # start (with no bytecode written that was 1.5 s of every child's 2.5).
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    })
    if isolation != "inprocess":
        env[SUBMISSION_ENV] = spec.to_env()
    if limits.threads:
        env["COURSE_THREADS"] = str(limits.threads)
    cmd = [
        sys.executable, "-m", "course.grading.limits", str(limits.memory_mb), "--",
        sys.executable, "-m", "pytest", *map(str, sandbox.tests),
        "-c", str(sandbox.autograder / "pytest.ini"), "--rootdir", str(sandbox.autograder),
        "-p", "hypothesis.extra.pytestplugin", "-p", "course.grading.pytest_plugin",
        "--course-protocol", str(settings_read), "--basetemp", str(sandbox.exchange / "pytest"),
        "-p", "no:cacheprovider", "-q", "--no-header", "--tb=no", "-rN",
    ]
    settings = json.dumps({"fd": events_write, "key": key.hex(), "tests": tests, "test_s": limits.test_s,
                           "real_model_s": limits.real_model_s}).encode()
    try:
        proc = subprocess.Popen(cmd, cwd=sandbox.work, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, pass_fds=(events_write, settings_read), process_group=0)
    finally:
        os.close(events_write)
        os.close(settings_read)
    try:
        while settings:  # small: fits in the pipe's buffer, so this never blocks for long
            settings = settings[os.write(settings_write, settings):]
    except BrokenPipeError:
        pass
    finally:
        os.close(settings_write)
    return proc, events_read


def run_sandbox(sandbox: Sandbox, tests: list[str], limits: Limits) -> RunReport:
    """Run ``tests`` (test function names) of ``sandbox`` under ``limits``."""
    report = RunReport()
    isolation = choose(limits.isolation)
    remaining = list(tests)
    deadline = time.monotonic() + limits.submission_s
    log_path = sandbox.root / "child.log"
    while remaining:
        key = secrets.token_bytes(32)
        if report.restarts:  # what the previous child changed is noted, then undone
            report.tampered += [t for t in sandbox.tampered() if t not in report.tampered]
        sandbox.restore()
        with open(log_path, "ab") as log:
            proc, read_fd = _spawn(sandbox, remaining, limits, key, log, isolation)
        current: str | None = None
        started = 0.0
        test_limit = limits.test_s
        progress = False
        buffer = b""
        reason = ""
        try:
            while True:
                now = time.monotonic()
                if current and now - started > test_limit:
                    reason = f"timeout: the test ran longer than {test_limit:g} s (an endless loop?)"
                    break
                if now > deadline:
                    reason = f"not run: the submission's time limit of {limits.submission_s:g} s was reached"
                    break
                ready, _, _ = select.select([read_fd], [], [], 0.2)
                if not ready:
                    if proc.poll() is not None:
                        chunk = b""  # fall through to EOF handling after a last drain
                    else:
                        continue
                else:
                    chunk = os.read(read_fd, MAX_LINE)
                if not chunk:
                    break  # EOF: the child closed the pipe (it ended or crashed)
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                if len(buffer) > MAX_LINE:
                    buffer = b""
                for line in lines:
                    event = _verify(line, key)
                    if event is None:
                        report.rejected_lines += 1
                        continue
                    if event["e"] == "start" and event["t"] in remaining:
                        current, started = event["t"], time.monotonic()
                        test_limit = float(event.get("limit") or limits.test_s)
                    elif event["e"] == "end" and event["t"] in remaining:
                        report.outcomes[event["t"]] = Outcome(event["o"], event.get("m", ""), event.get("doc", ""),
                                                              time.monotonic() - started)
                        remaining.remove(event["t"])
                        current, progress = None, True
                    elif event["e"] == "collect_error":
                        report.collect_errors.append({"where": event["where"], "message": event["m"]})
        finally:
            os.close(read_fd)
            if proc.poll() is None:
                _kill(proc)
            else:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)  # anything the child left behind
                except (ProcessLookupError, PermissionError):
                    pass
        if reason.startswith("not run"):
            for name in remaining:
                report.outcomes[name] = Outcome("not run", reason)
            break
        if reason.startswith("timeout") and current:
            report.outcomes[current] = Outcome("timeout", reason, duration=test_limit)
            remaining.remove(current)
        elif current:
            report.outcomes[current] = Outcome(
                "crashed", f"the test process {_describe_exit(proc.returncode)} during this test "
                           "(os._exit, a segfault or running out of memory?)")
            remaining.remove(current)
        elif remaining and not progress:
            tail = log_path.read_text(errors="replace")[-1500:]
            for name in remaining:
                report.outcomes[name] = Outcome(
                    "error", f"the test process {_describe_exit(proc.returncode)} before running this test:\n{tail}")
            break
        if remaining:
            report.restarts += 1
    report.tampered += [t for t in sandbox.tampered() if t not in report.tampered]
    return report


def _verify(line: bytes, key: bytes) -> dict | None:
    try:
        event = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(event, dict) or not isinstance(event.get("sig"), str):
        return None
    if not hmac.compare_digest(event["sig"], sign(key, event)):
        return None
    return event
