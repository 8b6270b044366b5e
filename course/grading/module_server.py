"""The submission's own process: import the learner's modules and answer the tests' calls.

Started by :class:`course.grading.isolation.SubmissionProcess` (inside
bubblewrap when grading is isolated) as ``python -m course.grading.module_server``
with the channel on its standard input and output. It holds nothing the
grader trusts: no test, no expected value, no channel to the supervisor. What
the learner's code prints goes to standard error (the grader's log).

Under bubblewrap the process has a network of its own with nothing in it. A
test that hands the submission a URL of one of the test's own servers
(``http://127.0.0.1:PORT``) still works: a connection to the loopback address
is relayed, through a Unix socket the grader listens on, to that port of the
test's process, and only to ports that process is listening on.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
from pathlib import Path

from .loader import TARGET_ENV, import_from_folder
from .remote import RELAY_ENV, Channel, pump

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def load(slug: str, module: str):
    """Handle 0 of the channel: import one of the lesson's modules from the submission."""
    root = Path(os.environ[TARGET_ENV])
    return import_from_folder(root / slug if (root / slug).is_dir() else root, slug, module)


def _relay_open(path: str, port: int, connect: bool = True) -> socket.socket:
    """A Unix connection to the grader's relay for ``port``; ConnectionRefusedError where nothing listens."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    _unix_connect(conn, path)
    conn.sendall(port.to_bytes(2, "big") + (b"\x01" if connect else b"\x00"))
    status = conn.recv(1)
    if status != b"\x01":
        conn.close()
        raise ConnectionRefusedError(111, f"Connection refused (nothing of the test listens on port {port})")
    return conn


_forwarders: dict[int, socket.socket] = {}
_forwarders_lock = threading.Lock()
_unix_connect = socket.socket.connect


def _ensure_forwarder(path: str, port: int) -> None:
    """Listen on 127.0.0.1:``port`` of the sandbox's own network and relay each connection to the grader."""
    with _forwarders_lock:
        if port in _forwarders:
            return
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(64)
        _forwarders[port] = listener

    def serve() -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = _relay_open(path, port)
            except OSError:
                client.close()
                continue
            threading.Thread(target=pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=pump, args=(upstream, client), daemon=True).start()

    threading.Thread(target=serve, name=f"course-relay-{port}", daemon=True).start()


def install_relay(path: str) -> None:
    """Route the learner's connections to loopback ports through the relay (Python's sockets: httpx, urllib,
    the ollama and openai clients)."""
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex

    def prepare(sock: socket.socket, address) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple) and len(address) >= 2:
            host, port = address[0], address[1]
            if host in LOOPBACK and isinstance(port, int) and 0 < port < 65536:
                _relay_open(path, port, connect=False).close()  # refused here, as a real closed port would be
                _ensure_forwarder(path, port)

    def connect(self, address):
        prepare(self, address)
        return original_connect(self, address)

    def connect_ex(self, address):
        try:
            prepare(self, address)
        except ConnectionRefusedError:
            return 111
        return original_connect_ex(self, address)

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex


def main() -> None:
    rfd, wfd = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)  # the learner's prints go to the log, never onto the channel
    sys.stdout = sys.stderr
    if os.environ.get(RELAY_ENV):
        install_relay(os.environ[RELAY_ENV])
    channel = Channel(rfd, wfd, trusted=False)
    channel.objects[0] = load
    channel.serve_forever()
    os._exit(0)


if __name__ == "__main__":
    main()
