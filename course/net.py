"""Loopback helpers for the course's local servers and their tests: a free port, a server process that is
always stopped."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the kernel's choice for port 0)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served(cmd: list[str], url: str, *, timeout: float = 120.0, log=None) -> Iterator[subprocess.Popen]:
    """Run ``cmd`` until ``url`` answers, yield the process, and stop it on exit whatever happened.

    A process that exits before it serves raises RuntimeError with the end of what it printed (when ``log``
    is not given); one that does not answer within ``timeout`` seconds raises TimeoutError.
    """
    # what the server prints goes to a file, not a pipe that nobody reads (a full pipe blocks the server)
    output = log if log is not None else tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                said = ""
                if log is None:
                    output.seek(0)
                    said = output.read().decode(errors="replace")[-800:]
                raise RuntimeError(f"{' '.join(cmd[:4])} exited with {proc.returncode} before serving {url}: {said}")
            try:
                urllib.request.urlopen(url, timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{url} did not answer within {timeout:g} s") from None
                time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log is None:
            output.close()
