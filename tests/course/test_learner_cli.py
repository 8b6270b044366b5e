"""The learner's verbs as a new learner meets them (issue 19): honest progress, per-exercise solutions, hints that
end in a next step, feedback for every failing test, an 80-column `course lessons` and `course --help`, and
`course watch` driven through a pseudo-terminal.

Every check here grades l00.1 or l00.2 alone (no real model), in a private copy of the course."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from course.exercises.meta import load_course
from course.exercises.progress import Progress
from course.exercises.reveal import exercise_solution, strip_markers

L00 = "l00_getting_started"
ANSI = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]|\x1b\][^\x07]*\x07")


def run(*args: str, cwd: Path, columns: int = 200, input: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": str(columns), "COURSE_ROOT": str(cwd)}
    return subprocess.run([sys.executable, "-m", "course", *args], capture_output=True, text=True, timeout=120,
                          env=env, input=input, cwd=cwd)


def solve(root: Path, file: str = "time_tool.py", edit: tuple[str, str] | None = None) -> None:
    """Put the reference of ``file`` into the learner's exercises, markers removed, optionally edited."""
    text = strip_markers((root / "solutions" / L00 / file).read_text())
    if edit:
        assert edit[0] in text
        text = text.replace(*edit)
    (root / "exercises" / L00 / file).write_text(text)


def recorded(root: Path) -> dict:
    return json.loads((root / ".course" / "progress.json").read_text())


# --- honest progress ---------------------------------------------------------------------------------


def test_exercise_checks_are_recorded_and_reset_forgets_them(course_copy):
    solve(course_copy)
    assert run("check", "l00", "--exercise", "l00.1", cwd=course_copy).returncode == 0
    assert recorded(course_copy)["passed"] == {"l00.1": True}
    listed = json.loads(run("lessons", "--json", cwd=course_copy).stdout)
    assert listed[0]["exercises"][0]["passed"] and listed[0]["exercises"][0]["points_earned"] == 5
    assert json.loads(run("progress", "--json", cwd=course_copy).stdout)[0]["points"] == 5

    reset = run("reset", "l00.1", "--yes", cwd=course_copy)
    assert reset.returncode == 0, reset.stderr
    assert "NotImplementedError" in (course_copy / "exercises" / L00 / "time_tool.py").read_text()
    assert recorded(course_copy)["passed"] == {} and recorded(course_copy)["points"] == {}
    listed = json.loads(run("lessons", "--json", cwd=course_copy).stdout)
    assert not listed[0]["exercises"][0]["passed"]
    assert json.loads(run("progress", "--json", cwd=course_copy).stdout)[0]["points"] is None
    backups = list((course_copy / ".course" / "backups").rglob("time_tool.py"))
    assert backups and "isoformat" in backups[0].read_text()  # the learner's version is kept


def test_reset_of_a_lesson_forgets_only_that_lesson(course_copy):
    progress = Progress.load(load_course(course_copy))
    progress.passed.update({"l00.1": True, "l01.1": True})
    progress.points.update({"l00.1": [5, 5], "l01.1": [6, 6]})
    progress.save()
    assert run("reset", "l00", "--yes", cwd=course_copy).returncode == 0
    assert recorded(course_copy)["passed"] == {"l01.1": True}


def test_a_check_of_one_exercise_accepts_its_id(course_copy):
    solve(course_copy)
    proc = run("check", "l00.1", cwd=course_copy)
    assert proc.returncode == 0 and "5/5 points" in proc.stdout
    assert "Passed: l00.1" in proc.stdout and "course solution l00.1" in proc.stdout
    assert "l00.2" not in proc.stdout  # only that exercise was graded
    assert recorded(course_copy)["passed"] == {"l00.1": True}


# --- solutions, one exercise at a time ----------------------------------------------------------------


def test_solution_unlocks_per_exercise_as_a_diff_without_markers(course_copy):
    refused = run("solution", "l00.1", cwd=course_copy)
    assert refused.returncode == 2 and "still open: l00.1" in refused.stderr
    nothing = run("solution", cwd=course_copy)
    assert nothing.returncode == 2 and "l00.1" in nothing.stderr and "Traceback" not in nothing.stderr

    solve(course_copy, edit=("from None", "from None  # mine"))
    assert run("check", "l00.1", cwd=course_copy).returncode == 0
    shown = run("solution", "l00.1", cwd=course_copy)
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert "### BEGIN SOLUTION" not in out and "### END SOLUTION" not in out
    assert re.search(r"^-.*from None  # mine", out, re.M) and re.search(r"^\+.*from None$", out, re.M)
    assert "yours: exercises/l00_getting_started/time_tool.py" in out
    # the default is the exercise that passed last; the lesson shows what is unlocked and names the rest
    assert run("solution", cwd=course_copy).stdout == out
    lesson = run("solution", "l00", cwd=course_copy)
    assert lesson.returncode == 0 and "Still locked (not passed yet): l00.2, l00.3, l00.4, l00.5" in lesson.stdout
    locked = run("solution", "l00.2", cwd=course_copy)
    assert locked.returncode == 2 and "still open: l00.2" in locked.stderr


def test_a_solution_shows_only_its_exercise_functions(course_copy):
    """agent.py holds l00.3 and l00.4: the reference of l00.3 must not give away l00.4's function."""
    course_ = load_course(course_copy)
    parts = exercise_solution(course_, course_.exercise("l00.3"))
    assert [p.function for p in parts] == list(course_.exercise("l00.3").functions)
    for name in course_.exercise("l00.4").functions:
        assert all(f"def {name}(" not in p.reference and f"def {name}(" not in p.diff for p in parts)
    assert all(not p.diff.count("### ") for p in parts)


# --- hints -----------------------------------------------------------------------------------------


def test_hint_takes_a_lesson_and_ends_with_a_next_step(course_copy):
    seen = [run("hint", "l00", cwd=course_copy).stdout for _ in range(3)]
    assert [f"l00.1 Write a typed tool  hint {i}/3" in text for i, text in enumerate(seen, 1)] == [True] * 3
    last = run("hint", "l00.1", cwd=course_copy).stdout
    assert "hint 3/3" not in last and "You have seen all 3 hints" in last
    assert "course check l00.1" in last and "course solution l00.1" in last and "#write-a-typed-tool" in last
    assert run("hint", cwd=course_copy).stdout == last  # the default is the current exercise, l00.1


# --- feedback --------------------------------------------------------------------------------------


def test_every_failing_public_test_explains_itself(course_copy, course):
    proc = run("check", "l00.2", cwd=course_copy)
    public = list(course.exercise("l00.2").tests)
    for name in public:
        block = proc.stdout.split(f"✗ {name}\n", 1)
        assert len(block) == 2, f"{name} has no explanation"
        assert block[1].lstrip().startswith("expected: ") and "got: " in block[1].split("✗", 1)[0]
    assert proc.stdout.count("expected: ") == len(public)
    assert "hint: " in proc.stdout and "read: lessons/l00_getting_started/index.md#from-signature-to-schema" in proc.stdout


def test_the_time_rule_is_stated_to_the_second(course_copy):
    """A valid ISO 8601 time with microseconds fails, and the message says why: the rule is to the second."""
    solve(course_copy, edit=('isoformat(timespec="seconds")', "isoformat()"))
    proc = run("check", "l00.1", cwd=course_copy)
    assert "to the second" in proc.stdout and "no fractions of a second" in proc.stdout
    assert "such as 2026-12-01T17:50:04+09:00" in proc.stdout
    stub = (course_copy / "exercises" / L00 / "time_tool.py").read_text()
    assert "no fractions of a second" in strip_markers(stub)  # the stub's docstring says so before any check


# --- layout at 80 columns ----------------------------------------------------------------------------


def test_lessons_fits_80_columns_with_totals_and_a_legend(course_copy, course):
    solve(course_copy)
    run("check", "l00.1", cwd=course_copy)
    out = run("lessons", cwd=course_copy, columns=80).stdout
    assert max(map(len, out.splitlines())) <= 80 and "…" not in out
    for ex in course.exercises_in_order():
        assert re.search(rf"{re.escape(ex.id)}\s.*\s{re.escape(ex.file)}\s", out), ex.id
    total = sum(ex.max_points for ex in course.exercises_in_order())
    assert f"5/{total} points, 1/{len(course.exercises_in_order())} exercises passed" in out
    assert "1/5 passed" in out and "5/47" in out  # the lesson's totals
    assert "✓ passed" in out and "▶ current" in out and "planned" in out


def test_help_groups_verbs_cuts_nothing_and_says_where_to_start(course_copy):
    out = run("--help", cwd=course_copy, columns=80).stdout
    usage, rest = out.split("\n", 1)
    assert "..." not in rest and max(map(len, out.splitlines())) <= 80  # "[ARGS]..." of the usage line aside
    sections = re.findall(r"^(\S[^\n]*):$", out, re.M)
    assert sections[:2] == ["Options", "Learners"] and "Instructors" in sections
    learners = out.split("Learners:")[1].split("\n\n")[0]
    assert all(f"  {verb} " in learners for verb in ("lessons", "watch", "check", "hint", "solution", "reset"))
    assert "New here? Run `course doctor`" in out


# --- course watch, through a pseudo-terminal ---------------------------------------------------------


class Terminal:
    """`course watch` on a pseudo-terminal of its own: what it prints, keys sent to it, its exit code."""

    def __init__(self, root: Path):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: its controlling terminal is the pty, so ^C is a real SIGINT
            os.environ.update(COURSE_ROOT=str(root), COLUMNS="80", TERM="xterm")
            os.execv(sys.executable, [sys.executable, "-m", "course", "watch"])
        self.output = ""

    def read_until(self, text: str, timeout: float = 45) -> bool:
        end = time.monotonic() + timeout
        while text not in ANSI.sub("", self.output) and time.monotonic() < end:
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                self.output += chunk.decode(errors="replace")
        return text in self.text

    @property
    def text(self) -> str:
        return ANSI.sub("", self.output).replace("\r", "")

    def send(self, data: str) -> None:
        os.write(self.fd, data.encode())

    def wait(self, timeout: float = 20) -> int | None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.read_until("\0never", 0.2)  # keep draining, so the child never blocks on a full terminal
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
        return None

    def kill(self) -> None:
        try:
            os.kill(self.pid, 9)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


@pytest.fixture
def terminal(course_copy):
    started = []

    def start() -> Terminal:
        started.append(Terminal(course_copy))
        return started[-1]

    yield start
    for term in started:
        term.kill()


def test_watch_rechecks_on_save_moves_on_and_stops_on_ctrl_c(course_copy, terminal):
    term = terminal()
    assert term.read_until("Watching exercises/l00_getting_started/time_tool.py"), term.text[-2000:]
    assert "✗ l00.1 Write a typed tool" in term.text and "expected: " in term.text
    solve(course_copy)  # the learner saves a passing solution
    assert term.read_until("passed, next: l00.2"), term.text[-2000:]
    assert term.read_until("Watching exercises/l00_getting_started/schema.py"), term.text[-2000:]
    after_pass = term.text.split("passed, next: l00.2")[1]
    assert "test_json_type_simple_types" in after_pass and "test_time_tool" not in after_pass  # one exercise only
    assert re.search(r"[━─]{30} 5/\d+ points, 1/\d+ exercises passed", term.text)  # the course-wide bar
    term.send("\x03")
    code = term.wait(60)  # a loaded machine (CI runs two cores flat out) can take a while to unwind
    assert code in (0, 130), f"exit code {code} (None: still running after 60 s)\n" + term.text[-2000:]
    assert "Traceback" not in term.text and "Stopped watching" in term.text
    assert recorded(course_copy)["passed"]["l00.1"] is True


def test_watch_quits_on_q_and_shows_hints(course_copy, terminal):
    term = terminal()
    assert term.read_until("Watching exercises/l00_getting_started/time_tool.py"), term.text[-2000:]
    term.send("h\n")
    assert term.read_until("hint 1/3"), term.text[-2000:]
    term.send("q\n")
    assert term.wait() == 0, term.text[-2000:]
    assert "Traceback" not in term.text
