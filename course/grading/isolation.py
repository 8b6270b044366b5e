"""Run a submission's code where it can reach nothing of the grader's: bubblewrap, Debian's sandbox.

The grader runs the tests in one process and the learner's code in another
(:mod:`.remote`); this module starts that other process. With bubblewrap
(``bwrap``, ``apt-get install bubblewrap``) the process gets:

- its own **mount** namespace holding only the system's libraries, Python, the
  course's models (read-only), a copy of the course package, the submission's
  files (read-only), a private ``/tmp``, and the test's exchange folder (where a
  test's ``tmp_path`` lives); no checkout, no home, no other sandbox;
- its own **PID** namespace (its ``/proc`` shows only its own processes: it
  cannot signal, trace or read any process of the grader or of a classmate,
  and when its first process ends, every process it started ends too: a
  double-forked daemon included);
- its own **network** with nothing in it but loopback (the test's own servers are
  relayed, see :mod:`.module_server`), its own IPC and host name, no
  capabilities, a new session (no terminal to push keys into);
- an **environment** built from an allow-list (:data:`SUBMISSION_ENV_KEEP`),
  never the grader's own.

Without bubblewrap the same two processes run as plain processes
(``isolation="process"``): verdicts still cannot be forged, but the operating
system no longer keeps the submission away from the files and processes of
the account that grades. ``course grade`` refuses that unless the instructor
passes ``--no-isolation``, and then says so in every output.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from .loader import SUBMISSION_ENV, TARGET_ENV
from .remote import RELAY_ENV, Channel, Remote, pump

INSTALL = "sudo apt-get install bubblewrap"
TMP_BYTES = 256 * 2**20  # the submission's private /tmp
FILE_MB = 256  # the largest file the submission's process may write (its log, a file in the exchange folder)
MODES = ("bwrap", "process", "inprocess")  # inprocess: the old path (the submission imported by the tests'
# own process); only `course bench grading` uses it, to show what isolation costs

# What the submission's process may inherit from the grader's environment: nothing secret, nothing that changes
# where Python looks for code. Everything else is dropped.
SUBMISSION_ENV_KEEP = ("LANG", "LC_ALL", "LC_CTYPE", "TZ", "COURSE_THREADS", "COURSE_LLAMA_EXTRA_BUFTS",
                       "OMP_NUM_THREADS")
# What the tests' own process keeps (it is the grader's, but its messages reach feedback).
GRADER_ENV_KEEP = SUBMISSION_ENV_KEEP + ("PATH", "HOME", "USER", "LOGNAME", "TERM", "COURSE_CACHE", "XDG_CACHE_HOME",
                                         "VIRTUAL_ENV", "LD_LIBRARY_PATH", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE",
                                         "SYSTEMROOT")


class IsolationError(RuntimeError):
    """Isolated grading was asked for and cannot run here; the message says what to install or pass."""


def allowed_env(keep: tuple[str, ...], environ: dict[str, str] | None = None) -> dict[str, str]:
    environ = os.environ if environ is None else environ
    return {k: environ[k] for k in keep if k in environ}


@functools.lru_cache(maxsize=1)
def bwrap_problem() -> str | None:
    """None where bubblewrap runs a sandbox here; else why not, with the fix."""
    path = shutil.which("bwrap")
    if path is None:
        return f"bubblewrap is not installed ({INSTALL})"
    try:
        done = subprocess.run([path, *_base_args(), "--", sys.executable, "-c", "pass"], capture_output=True,
                              timeout=30, text=True)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not start a sandbox: {exc}"
    if done.returncode != 0:
        first = (done.stderr.strip().splitlines() or ["no message"])[-1]
        hint = ("; unprivileged user namespaces may be off (sysctl kernel.unprivileged_userns_clone=1)"
                if "ermitted" in first or "namespace" in first else "")
        return f"bubblewrap could not start a sandbox here ({first}){hint}"
    return None


def choose(isolation: str | None) -> str:
    """The mode to grade in: ``bwrap``, ``process``, or ``auto`` (bubblewrap where it works)."""
    isolation = isolation or "auto"
    if isolation == "auto":
        return "process" if bwrap_problem() else "bwrap"
    if isolation not in MODES:
        raise IsolationError(f"unknown isolation {isolation!r}: use bwrap, process or auto")
    if isolation == "bwrap" and (problem := bwrap_problem()):
        raise IsolationError(problem)
    return isolation


def _ro_system_binds() -> list[str]:
    args: list[str] = []
    for top in ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin"):
        p = Path(top)
        if p.is_symlink():
            args += ["--symlink", os.readlink(p), top]
        elif p.is_dir():
            args += ["--ro-bind", top, top]
    for f in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/hosts", "/etc/localtime",
              "/etc/nsswitch.conf", "/etc/alternatives", "/etc/ssl/certs"):
        args += ["--ro-bind-try", f, f]
    return args


def _python_paths() -> list[str]:
    """Python itself and every folder its packages come from (the venv, the base install, user site)."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(Path(sys.executable).resolve().parent.parent)}
    for entry in sys.path:
        if entry and Path(entry).is_dir() and ("site-packages" in entry or "dist-packages" in entry):
            paths.add(entry)
    ordered = sorted(p for p in paths if p and Path(p).exists())
    # only the outermost of nested folders, and nothing under /usr (bound whole)
    out: list[str] = []
    for p in ordered:
        if p.startswith("/usr/") or p == "/usr" or any(p == o or p.startswith(o.rstrip("/") + "/") for o in out):
            continue
        out.append(p)
    return out


def _base_args() -> list[str]:
    # The private /tmp comes first: bubblewrap mounts in order, and Python, a venv or the sandbox's own folders
    # may live under /tmp (CI's venv does), so they are bound on top of it, not hidden by it.
    # --disable-userns: no user namespace of its own inside (less of the kernel within reach); the private /tmp
    # is a tmpfs, that is memory, so it gets a size.
    return ["--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session",
            "--cap-drop", "ALL", "--hostname", "grader",
            "--size", str(TMP_BYTES), "--tmpfs", "/tmp", "--proc", "/proc", "--dev", "/dev",
            *_ro_system_binds(), *[a for p in _python_paths() for a in ("--ro-bind", p, p)],
            "--clearenv", "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin", "--setenv", "HOME", "/tmp"]


@dataclass(frozen=True)
class SubmissionSpec:
    """How the tests' process starts the submission's process (JSON in ``COURSE_SUBMISSION``)."""

    isolation: str  # bwrap | process
    lib: str  # the course package's copy (first on PYTHONPATH)
    meta: str  # course.toml's copy
    submission: str  # the submission's lesson folders (read-only inside)
    exchange: str  # the tests' tmp_path and TMPDIR (read-write inside)
    memory_mb: int
    cache: str = ""  # the course's model cache (read-only inside), where it exists

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> SubmissionSpec:
        return cls(**json.loads(os.environ[SUBMISSION_ENV]))


def submission_command(spec: SubmissionSpec, relay: str | None) -> tuple[list[str], dict[str, str]]:
    """The command that starts the submission's process, and its environment."""
    env = {"PYTHONPATH": spec.lib, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
           "PYTHONNOUSERSITE": "1", "COURSE_ROOT": str(Path(spec.meta).parent), TARGET_ENV: spec.submission,
           **allowed_env(SUBMISSION_ENV_KEEP)}
    limits = [sys.executable, "-m", "course.grading.limits", str(spec.memory_mb), "--file-mb", str(FILE_MB), "--"]
    server = [sys.executable, "-m", "course.grading.module_server"]
    if spec.isolation == "process":
        env.update(PATH=os.environ.get("PATH", "/usr/bin:/bin"), HOME=spec.exchange, TMPDIR=spec.exchange)
        return limits + server, env
    args = [shutil.which("bwrap") or "bwrap", *_base_args(),
            "--ro-bind", spec.lib, spec.lib, "--ro-bind", spec.meta, spec.meta,
            "--ro-bind", spec.submission, spec.submission, "--bind", spec.exchange, spec.exchange]
    if spec.cache and Path(spec.cache).is_dir():
        args += ["--ro-bind", spec.cache, spec.cache]
        env["COURSE_CACHE"] = spec.cache
    for key, value in {**env, **({RELAY_ENV: relay} if relay else {})}.items():
        args += ["--setenv", key, value]
    args += ["--chdir", "/tmp", "--", *server]
    # the limits wrapper runs outside, in the grader's environment: it needs PYTHONPATH to find the course
    return limits + args, {"PYTHONPATH": spec.lib, "PATH": os.environ.get("PATH", "/usr/bin:/bin")}


class SubmissionProcess:
    """The submission's process, seen from the tests: ``load(slug, module)`` gives a Remote module."""

    def __init__(self, spec: SubmissionSpec):
        self.spec = spec
        self.relay: Relay | None = None
        if spec.isolation == "bwrap":
            self.relay = Relay(Path(spec.exchange) / ".relay.sock")
        cmd, env = submission_command(spec, str(self.relay.path) if self.relay else None)
        self.proc = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None,
                                     cwd=spec.exchange, bufsize=0)
        self.channel = Channel(self.proc.stdout.fileno(), self.proc.stdin.fileno(), trusted=True)
        self.channel.describe_exit = self._describe_exit

    def _describe_exit(self) -> str:
        try:
            code = self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return "it stopped answering"
        if code < 0:
            import signal

            try:
                return f"killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exit status {code}"

    @property
    def alive(self) -> bool:
        return not self.channel.closed and self.proc.poll() is None

    def load(self, slug: str, module: str) -> Remote:
        return self.channel.request("call", 0, None, (slug, module))

    def close(self) -> None:
        if self.channel.closed and self.proc.poll() is None:
            self.proc.kill()  # it broke the protocol or stopped answering: no grace
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.relay:
            self.relay.close()


_current: SubmissionProcess | None = None


def submission_process() -> SubmissionProcess:
    """The live submission process of this test run, started (again) when there is none."""
    global _current
    if _current is None or not _current.alive:
        if _current is not None:
            _current.close()
        _current = SubmissionProcess(SubmissionSpec.from_env())
    return _current


def _own_listening_ports() -> set[int]:
    """Loopback TCP ports a socket of this process listens on (from /proc: no other process's ports count)."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            link = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    ports = set()
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if len(parts) > 9 and parts[3] == "0A" and parts[9] in inodes:
                ports.add(int(parts[1].rsplit(":", 1)[1], 16))
    return ports


class Relay:
    """The grader's end of the submission's loopback: a Unix socket that connects to this process's own
    listening ports, and to nothing else. A client sends the port (2 bytes) and 1 to connect or 0 to ask
    only whether the port is open; the answer is one byte, 1 (then the bytes flow) or 0 (refused)."""

    def __init__(self, path: Path):
        self.path = path
        if path.exists():
            path.unlink()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(64)
        threading.Thread(target=self._serve, name="course-grading-relay", daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(10)
            raw = b""
            while len(raw) < 3:
                chunk = conn.recv(3 - len(raw))
                if not chunk:
                    return conn.close()
                raw += chunk
            port, connect = int.from_bytes(raw[:2], "big"), raw[2] == 1
            if port not in _own_listening_ports():
                conn.sendall(b"\x00")
                return conn.close()
            if not connect:  # a probe: is the port open?
                conn.sendall(b"\x01")
                return conn.close()
            upstream = socket.create_connection(("127.0.0.1", port), timeout=10)
            conn.sendall(b"\x01")
            conn.settimeout(None)
            upstream.settimeout(None)
        except OSError:
            conn.close()
            return
        threading.Thread(target=pump, args=(conn, upstream), daemon=True).start()
        pump(upstream, conn)

    def close(self) -> None:
        try:
            self.sock.close()
            self.path.unlink()
        except OSError:
            pass
