"""HTTP for ``course serve``: routing, limits, authentication, JSON and streamed bodies.

Built on the standard library's threading HTTP server so that every byte the
clients see is visible here. Each face (OpenAI's ``/v1``, Ollama's ``/api``)
registers routes and says how its errors look; this module does the rest:

- request bodies are read up to ``max_body`` bytes (413 beyond it, 411 without
  a length) and parsed as a JSON object (400 with the parser's position);
- ``Authorization: Bearer <key>`` is checked when the server has a key (401);
- a streamed reply is sent with chunked transfer encoding, one chunk per event,
  and a client that goes away mid-stream stops the generation instead of the
  server (the write fails, the handler closes the generator, the model's turn
  passes to the next request);
- time is bounded per phase, not per read: a connection has ``timeout`` seconds
  from the end of its last answer to the end of its next request's headers (so
  an idle kept-alive connection, or headers sent a byte at a time, are closed
  when it runs out), then ``timeout`` seconds for the body (408 beyond);
- at most ``max_connections`` requests are served at once (503 beyond) and at
  most ``max_open`` connections are held open (a connection beyond is closed at
  once, before a thread is spent on it);
- a reply that is not streamed stops generating when its client leaves (the
  socket is checked between tokens; :class:`Request` carries the check).
"""

from __future__ import annotations

import hmac
import io
import json
import math
import select
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from opentelemetry import propagate
from opentelemetry import trace as otel_trace
from opentelemetry.trace import SpanKind, Status, StatusCode

MAX_BODY = 4 * 2**20
_tracer = otel_trace.get_tracer("course.serve")
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


class HTTPError(Exception):
    """An error answer: the face turns ``message`` into its own error body."""

    def __init__(self, status: int, message: str, *, code: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers or {}  # sent with the answer (Allow on a 405)


class ClientGone(Exception):
    """The client that asked for a reply has closed its connection: the reply is not worth finishing."""


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""
    client_gone: Callable[[], bool] = lambda: False  # True once the client closed its connection

    def json(self) -> dict:
        """The body as a JSON object, or a 400 that says what is wrong with it."""
        if not self.body.strip():
            raise HTTPError(400, "the request body is empty: send a JSON object")
        try:
            data = json.loads(self.body)
        except UnicodeDecodeError:
            raise HTTPError(400, "the request body is not UTF-8 text") from None
        except json.JSONDecodeError as exc:
            raise HTTPError(400, f"the request body is not valid JSON: {exc.msg} at line {exc.lineno} "
                                 f"column {exc.colno}") from None
        except RecursionError:
            raise HTTPError(400, "the request body nests arrays or objects too deeply") from None
        if not isinstance(data, dict):
            raise HTTPError(400, f"the request body must be a JSON object, got a JSON {type(data).__name__}")
        return data


@dataclass
class Response:
    status: int = 200
    body: Any = None  # a JSON-able value, or str for text/plain
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Stream:
    """A streamed answer: ``events`` yields the bytes of each event (an SSE block or an NDJSON line)."""

    content_type: str
    events: Iterator[bytes]
    status: int = 200


Handler = Callable[[Request], "Response | Stream"]
ErrorBody = Callable[[HTTPError], Any]


@dataclass
class Face:
    """A protocol face: a path prefix, its routes and the shape of its error bodies."""

    name: str
    prefixes: tuple[str, ...]
    error_body: ErrorBody
    routes: dict[tuple[str, str], Handler] = field(default_factory=dict)
    prefix_routes: list[tuple[str, str, Handler]] = field(default_factory=list)  # (method, path prefix, handler)

    def route(self, method: str, path: str) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            if path.endswith("/*"):
                self.prefix_routes.append((method, path[:-1], fn))
            else:
                self.routes[(method, path)] = fn
            return fn
        return register

    def find(self, method: str, path: str) -> Handler | None:
        if (method, path) in self.routes:
            return self.routes[(method, path)]
        for m, prefix, fn in self.prefix_routes:
            if m == method and path.startswith(prefix) and len(path) > len(prefix):
                return fn
        return None

    def allowed(self, path: str) -> list[str]:
        return sorted({m for (m, p) in self.routes if p == path}
                      | {m for m, prefix, _ in self.prefix_routes if path.startswith(prefix)})


@dataclass
class ServerSettings:
    api_key: str | None = None
    max_body: int = MAX_BODY
    timeout: float = 30.0
    max_connections: int = 64  # requests served at once
    max_open: int = 256  # connections held open, idle or not
    open_paths: tuple[str, ...] = ("/", "/health")  # liveness probes answer without a key
    log: Callable[[str], None] | None = None
    record: list | None = None  # when a list: (method, path, body) of every request is appended (for tests)
    metrics: Any = None  # a course.servers.metrics.ServeMetrics: every request counted and timed


class CourseHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], faces: list[Face], settings: ServerSettings):
        self.faces = faces
        self.settings = settings
        self.slots = threading.BoundedSemaphore(settings.max_connections)
        self.open_connections = threading.BoundedSemaphore(settings.max_open)
        self.draining = threading.Event()  # set: no new request is taken (503), those in flight finish
        self.cancelled = threading.Event()  # set: those in flight are cut off too, each ended cleanly
        self._active = 0
        self._idle = threading.Condition()
        if ":" in address[0]:  # an IPv6 address such as ::1
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """A thread per connection, up to ``max_open``; beyond, the connection is closed unanswered."""
        if not self.open_connections.acquire(blocking=False):
            self.log(f"{client_address[0]} refused: {self.settings.max_open} connections are open")
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.open_connections.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.open_connections.release()

    @property
    def active(self) -> int:
        """Requests being answered now."""
        return self._active

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no request is being answered (True), or ``timeout`` seconds (False)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._active == 0, timeout)

    def _count(self, step: int) -> None:
        with self._idle:
            self._active += step
            self._idle.notify_all()

    def face_for(self, path: str) -> Face:
        for face in self.faces:
            if any(path == p or path.startswith(p.rstrip("/") + "/") for p in face.prefixes):
                return face
        return self.faces[-1]

    def log(self, line: str) -> None:
        if self.settings.log:
            self.settings.log(line)


class _DeadlineReader(io.RawIOBase):
    """A socket's bytes, each read allowed only the time left before ``handler.deadline``.

    The socket's own timeout applies to each read: a client sending a byte every few seconds would never
    reach it. Reading through this, the whole phase (headers, or a body) has one deadline.
    """

    def __init__(self, sock: socket.socket, handler: _Handler):
        self.sock = sock
        self.handler = handler

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = self.handler.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the deadline for this request passed")
        self.sock.settimeout(min(left, self.handler.timeout))
        return self.sock.recv_into(buffer)


class _Handler(BaseHTTPRequestHandler):
    server: CourseHTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "course-serve"
    sys_version = ""

    default_request_version = "HTTP/1.1"  # so that an error about a garbled request still has a status line

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own errors (a garbled request line, headers too long) as JSON, not an HTML page."""
        self.close_connection = True
        text = message or status_phrase(code)
        if explain and explain not in text:
            text = f"{text}: {explain}"
        # the face of the path, once the request line could be read (OpenAI's error shape on /v1)
        path = urlsplit(getattr(self, "path", "") or "/").path
        data = json.dumps(self.server.face_for(path).error_body(HTTPError(code, text))).encode()
        self.send_response(code, message)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(data)

    def setup(self) -> None:
        self.timeout = self.server.settings.timeout  # for each write; reads have a deadline per phase
        self.deadline = math.inf
        super().setup()
        self.rfile = io.BufferedReader(_DeadlineReader(self.connection, self))
        # small writes (headers, then a body; one streamed event at a time) go out at once: with
        # Nagle's algorithm each waits for the client's delayed ACK, about 40 ms a request on Linux
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle_one_request(self) -> None:
        # from the end of the last answer to the end of this request's headers: one deadline
        self.deadline = time.monotonic() + self.timeout
        super().handle_one_request()

    def client_gone(self) -> bool:
        """Whether the reply should stop: its client closed its side (a kept-alive client that already sent
        its next request has not), or the server is cutting off what is in flight."""
        if self.server.cancelled.is_set():
            return True
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            return self.connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        self.server.log(f"{self.address_string()} {format % args}")

    # one method for every verb
    def do_GET(self) -> None:
        self._serve()

    do_POST = do_DELETE = do_HEAD = do_PUT = do_PATCH = do_OPTIONS = do_GET

    def send_response(self, code: int, message: str | None = None) -> None:
        self._status = code  # what the metrics count this request under
        super().send_response(code, message)

    def _serve(self) -> None:
        path = urlsplit(self.path).path.rstrip("/") or "/"
        face = self.server.face_for(path)
        metrics = self.server.settings.metrics
        self._status = 0  # 0: no answer was sent (the client left first)
        # a span of its own, in the caller's trace when the request carries a W3C traceparent header
        context = propagate.extract({k.lower(): v for k, v in self.headers.items()})
        with _tracer.start_as_current_span(f"{self.command} {path}", context=context, kind=SpanKind.SERVER,
                                           attributes={"http.request.method": self.command, "url.path": path,
                                                       "course.face": face.name}) as span:
            if metrics is not None:
                metrics.request_started(face.name)
            try:
                self._serve_on(face, path)
            finally:
                span.set_attribute("http.response.status_code", self._status)
                if self._status >= 500 or self._status == 0:
                    span.set_status(Status(StatusCode.ERROR, f"status {self._status}"))
                if metrics is not None:
                    metrics.request_done(face.name, self._status)

    def _serve_on(self, face: Face, path: str) -> None:
        if self.server.draining.is_set():
            self.close_connection = True
            self._send_error(face, HTTPError(503, "the server is shutting down: retry when it is back"))
            return
        if not self.server.slots.acquire(blocking=False):
            self._drain_body()
            self._send_error(face, HTTPError(503, "too many connections: retry in a moment"))
            self.close_connection = True
            return
        self.connection.settimeout(self.timeout)  # for the answer's writes
        self.server._count(+1)
        try:
            self._dispatch(face, path)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True  # the client went away: nothing to answer
        except ClientGone as exc:
            self.close_connection = True
            if self.server.cancelled.is_set():  # the client is still there: tell it why there is no reply
                self._send_error(face, HTTPError(503, "the server stopped before the reply was done: retry "
                                                      "when it is back"))
            else:
                self.server.log(f"{self.address_string()} left before its reply: {exc}")
        finally:
            self.server._count(-1)
            self.server.slots.release()

    def _dispatch(self, face: Face, path: str) -> None:
        settings = self.server.settings
        method = "GET" if self.command == "HEAD" else self.command
        try:
            handler = face.find(method, path)
            if handler is None:
                allowed = face.allowed(path)
                if allowed:
                    raise HTTPError(405, f"{self.command} is not allowed on {path}: use {', '.join(allowed)}",
                                    headers={"Allow": ", ".join(allowed)})
                raise HTTPError(404, f"no such endpoint: {self.command} {path}")
            length = self._body_length()  # framing first: an ambiguous request is refused before anything else
            if settings.api_key and path not in settings.open_paths:
                self._check_key(settings.api_key)
            if length and self.command not in BODY_METHODS:
                self.close_connection = True  # its bytes would be taken for the next request
                raise HTTPError(400, f"a {self.command} request has no body: send none")
            body = self._read_body(length, settings.max_body, settings.timeout) if length else b""
            request = Request(method, path, {k.lower(): v for k, v in self.headers.items()}, body,
                              client_gone=self.client_gone)
            if settings.record is not None:
                settings.record.append((method, path, body))
            result = handler(request)
        except HTTPError as exc:
            self._send_error(face, exc)
            return
        except ClientGone:
            raise
        except Exception as exc:  # a bug must not take the server down: 500, and the traceback in the log
            self.server.log("".join(traceback.format_exception(exc)))
            self._send_error(face, HTTPError(500, f"internal error: {type(exc).__name__}: {exc}"))
            return
        if isinstance(result, Stream):
            self._send_stream(face, result)
        else:
            self._send_body(result.status, result.body, result.headers)

    def _check_key(self, key: str) -> None:
        header = self.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), key.encode()):
            # the body is never read for a request without the key: the connection closes instead, so a
            # slow unauthenticated sender cannot hold a connection slot
            self.close_connection = True
            raise HTTPError(401, "missing or wrong API key: send the header 'Authorization: Bearer <key>' "
                                 "with the key `course serve --api-key` was started with", code="invalid_api_key")

    def _body_length(self) -> int:
        """The body's length from the one framing the course accepts: a single Content-Length of digits.

        Anything else (Transfer-Encoding of any kind, two Content-Length headers, ``+25``) is refused and
        the connection closed: two parties reading the framing differently is how requests are smuggled.
        """
        if self.headers.get_all("Transfer-Encoding"):
            self.close_connection = True
            raise HTTPError(411, "Transfer-Encoding is not accepted (chunked or otherwise): send the body with a "
                                 "Content-Length")
        values = self.headers.get_all("Content-Length") or []
        if len(values) > 1:
            self.close_connection = True
            raise HTTPError(400, f"{len(values)} Content-Length headers: send exactly one")
        if not values:
            return 0
        raw = values[0].strip()
        if not raw.isascii() or not raw.isdigit():
            self.close_connection = True
            raise HTTPError(400, f"Content-Length must be a non-negative integer, got {values[0]!r}")
        return int(raw)

    def _read_body(self, length: int, limit: int, timeout: float) -> bytes:
        """Exactly ``length`` bytes, all within ``timeout`` seconds (not per byte: a trickle is cut off)."""
        if length > limit:
            self.close_connection = True  # the unread body would be taken for the next request
            raise HTTPError(413, f"the request body has {length:,} bytes, more than the limit of {limit:,}")
        self.deadline = time.monotonic() + timeout  # the whole body, not each read
        data = bytearray()
        try:
            while len(data) < length:
                chunk = self.rfile.read1(length - len(data))
                if not chunk:
                    break
                data += chunk
        except TimeoutError:
            self.close_connection = True
            raise HTTPError(408, f"the request body did not arrive within {timeout:g} s: "
                                 f"{len(data)} of {length} bytes came") from None
        finally:
            self.deadline = math.inf
            self.connection.settimeout(self.timeout)
        if len(data) < length:
            self.close_connection = True
            raise HTTPError(400, f"the request body ended after {len(data)} of {length} bytes")
        return bytes(data)

    def _drain_body(self) -> None:
        """Before answering without reading the body: close the connection rather than read it."""
        if self.headers.get("Content-Length", "0").strip() not in ("", "0") or self.headers.get("Transfer-Encoding"):
            self.close_connection = True

    # -- writing --------------------------------------------------------------
    def _send_body(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        headers = dict(headers or {})
        if isinstance(body, bytes):  # already encoded: its type comes with it (the metrics' exposition format)
            data, ctype = body, headers.pop("Content-Type", "application/octet-stream")
        elif isinstance(body, str):
            data, ctype = body.encode(), "text/plain; charset=utf-8"
        else:
            data, ctype = json.dumps(body).encode(), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _send_error(self, face: Face, exc: HTTPError) -> None:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
        headers.update(exc.headers)
        try:
            self._send_body(exc.status, face.error_body(exc), headers)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True

    def _send_stream(self, face: Face, stream: Stream) -> None:
        events = stream.events
        try:
            first = next(events, None)  # errors before the first event still get a proper status
        except HTTPError as exc:
            events.close()
            self._send_error(face, exc)
            return
        except Exception as exc:
            events.close()
            self.server.log("".join(traceback.format_exception(exc)))
            self._send_error(face, HTTPError(500, f"internal error: {type(exc).__name__}: {exc}"))
            return
        self.send_response(stream.status)
        self.send_header("Content-Type", stream.content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        try:
            if first is not None:
                self._chunk(first)
            for event in events:
                if self.server.cancelled.is_set():  # shutting down: end the stream properly, cut short
                    self.close_connection = True
                    self.server.log(f"{self.address_string()}: stream cut off by the shutdown")
                    break
                self._chunk(event)
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True
            self.server.log(f"{self.address_string()} left mid-stream; generation stopped")
        except Exception as exc:  # the status is sent: end the stream, so the client sees it cut short
            self.server.log("".join(traceback.format_exception(exc)))
            self.close_connection = True
        finally:
            events.close()  # stops the generation and gives the model's turn to the next request

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()


def status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def eprint(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


_KINDS: dict[str, tuple[type, ...]] = {
    "a string": (str,), "an integer": (int,), "a number": (int, float), "true or false": (bool,),
    "a list": (list,), "an object": (dict,),
}


def field_of(body: dict, name: str, kind: str, *, required: bool = False, default: Any = None,
             where: str = "") -> Any:
    """``body[name]`` checked to be of ``kind`` (a key of ``_KINDS``), or a 400 naming the field."""
    label = f"{where}{name}"
    if name not in body or body[name] is None:
        if required:
            raise HTTPError(400, f"'{label}' is required ({kind})")
        return default
    value = body[name]
    types = _KINDS[kind]
    if isinstance(value, bool) and bool not in types:
        raise HTTPError(400, f"'{label}' must be {kind}, got {json.dumps(value)}")
    if not isinstance(value, types):
        shown = json.dumps(value) if not isinstance(value, (dict, list)) else type(value).__name__
        raise HTTPError(400, f"'{label}' must be {kind}, got {shown[:60]}")
    return value
