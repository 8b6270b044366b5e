"""A scripted HTTP server that fails on purpose: for testing clients of Ollama's (or any) REST API.

Each request takes the next step of the script, whatever its path::

    with FaultyServer([Status(500), Reply({"version": "0.12.6"})]) as server:
        check_health(server.url)          # sees a 500, retries, then succeeds
        server.requests                   # [("GET", "/api/version", None), ...]

Steps: :class:`Reply` (a JSON body), :class:`Status` (an error status with
Ollama's error body), :class:`Lines` (a streamed NDJSON reply, optionally cut
short mid-line and without its final chunk), :class:`Hang` (no answer for a
while, so the client's timeout fires), :class:`Drop` (close the connection with
no answer). When the script runs out, every request gets a 500 that says so.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    body: Any
    status: int = 200


@dataclass
class Status:
    status: int
    error: str = "injected failure"


@dataclass
class Lines:
    """NDJSON lines; ``cut`` bytes are dropped from the end (a truncated stream) when set."""

    lines: list[dict]
    cut: int = 0
    status: int = 200


@dataclass
class Hang:
    seconds: float


@dataclass
class Drop:
    pass


Step = Reply | Status | Lines | Hang | Drop


@dataclass
class FaultyServer:
    script: list[Step]
    requests: list[tuple[str, str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        server = self
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _step(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw
                with lock:
                    server.requests.append((self.command, self.path, body))
                    step = server.script.pop(0) if server.script else Status(500, "the test script has run out")
                if isinstance(step, Hang):
                    time.sleep(step.seconds)
                    self.close_connection = True
                    return
                if isinstance(step, Drop):
                    self.close_connection = True
                    return
                if isinstance(step, Lines):
                    data = b"".join(json.dumps(line).encode() + b"\n" for line in step.lines)
                    if step.cut:
                        data = data[: -step.cut]
                    self._send(step.status, data, "application/x-ndjson")
                    return
                if isinstance(step, Status):
                    self._send(step.status, json.dumps({"error": step.error}).encode(), "application/json")
                    return
                self._send(step.status, json.dumps(step.body).encode(), "application/json")

            def _send(self, status: int, data: bytes, ctype: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _step

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()

    @property
    def bodies(self) -> list[Any]:
        """The parsed JSON body of every request so far, in order."""
        return [body for _, _, body in self.requests]

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FaultyServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def chat_line(content: str = "", *, done: bool = False, tool_calls: list[dict] | None = None,
              model: str = "smollm2-135m", eval_count: int = 0, eval_duration_ns: int = 0) -> dict:
    """One line of an ``/api/chat`` stream, shaped like Ollama's."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = tool_calls
    line = {"model": model, "created_at": "2026-11-22T00:00:00Z", "message": message, "done": done}
    if done:
        line.update(done_reason="stop", total_duration=eval_duration_ns + 1000, load_duration=0,
                    prompt_eval_count=10, prompt_eval_duration=1000, eval_count=eval_count,
                    eval_duration=eval_duration_ns)
    return line
