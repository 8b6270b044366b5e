"""Start real servers on free loopback ports for tests, and always stop them."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running(cmd: list[str], url: str, *, timeout: float = 120.0, log=None):
    """Run ``cmd`` until ``url`` answers; stop it on exit, whatever happened."""
    proc = subprocess.Popen(cmd, stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{cmd[:4]} exited with {proc.returncode} before serving {url}")
            try:
                urllib.request.urlopen(url, timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{url} did not answer within {timeout:g} s") from None
                time.sleep(0.2)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def llama_server_cmd(model_file: str, port: int, *, chat_format: str = "chatml-function-calling") -> list[str]:
    return [sys.executable, "-m", "course.backends.llama_server", "--model", model_file, "--host", "127.0.0.1",
            "--port", str(port), "--n_ctx", "2048", "--n_threads", "2", "--chat_format", chat_format,
            "--model_alias", "smollm2-135m", "--verbose", "False"]
