"""course serve's HTTP framing and connection limits, over raw sockets (issue 18): no request smuggling,
no lock-out by slow clients, a body that trickles is cut off by a deadline, not kept alive byte by byte."""

from __future__ import annotations

import json
import select
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest

from course.backends.fake import Endless, Reply, ScriptedBackend
from course.net import free_port
from course.servers import CourseServer, Engine

KEY = "s3cret"


@pytest.fixture(scope="module")
def server():
    # no model is loaded by these tests; a short timeout keeps the slow-client cases short
    with CourseServer(port=0, models=["smollm2-135m"], api_key=KEY, timeout=1.5) as s:
        yield s


def exchange(server, raw: bytes, *, wait: float = 10.0) -> bytes:
    """Send ``raw`` and read until the server closes the connection (or ``wait`` runs out)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=wait) as s:
        s.sendall(raw)
        data = b""
        try:
            while chunk := s.recv(65536):
                data += chunk
        except TimeoutError:
            pass
    return data


def responses(data: bytes) -> list[int]:
    return [int(line.split()[1]) for line in data.split(b"\r\n") if line.startswith(b"HTTP/1.1 ")]


AUTH = f"Authorization: Bearer {KEY}\r\n".encode()
NEXT = b"GET /api/version HTTP/1.1\r\nHost: x\r\n" + AUTH + b"\r\n"  # what a smuggler hides in the body


@pytest.mark.parametrize("headers,status", [
    (b"Content-Length: %d\r\nContent-Length: 5\r\n", 400),  # two lengths that disagree
    (b"Content-Length: %d\r\nTransfer-Encoding: identity\r\n", 411),
    (b"Content-Length: %d\r\nTransfer-Encoding: gzip\r\n", 411),
    (b"Transfer-Encoding: chunked\r\n", 411),
    (b"Content-Length: +%d\r\n", 400),
])
def test_ambiguous_framing_is_refused_and_the_connection_closed(server, headers, status):
    body = b'{"model": "smollm2-135m"}'
    head = headers % len(body) if b"%d" in headers else headers
    data = exchange(server, b"POST /api/show HTTP/1.1\r\nHost: x\r\n" + AUTH + head + b"\r\n" + body + NEXT)
    assert responses(data) == [status], data[:300]  # one answer: the hidden request was never read


def test_a_get_with_a_body_is_refused_not_answered_twice(server):
    data = exchange(server, b"GET /api/version HTTP/1.1\r\nHost: x\r\n" + AUTH
                    + b"Content-Length: %d\r\n\r\n" % len(NEXT) + NEXT)
    assert responses(data) == [400] and b"has no body" in data


def test_a_short_body_and_a_trickle_are_cut_off_by_one_deadline(server):
    start = time.monotonic()
    data = exchange(server, b"POST /api/show HTTP/1.1\r\nHost: x\r\n" + AUTH + b"Content-Length: 25\r\n\r\n{\"mo")
    assert responses(data) == [408] and time.monotonic() - start < 5
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(b"POST /api/show HTTP/1.1\r\nHost: x\r\n" + AUTH + b"Content-Length: 25\r\n\r\n")
        start, answer = time.monotonic(), b""
        for byte in b'{"model": "smollm2-135m"}'[:10]:  # one byte every 0.3 s: each read is quick, the whole is not
            try:
                s.sendall(bytes([byte]))
            except OSError:
                break
            time.sleep(0.3)
        s.settimeout(5)
        try:
            while chunk := s.recv(65536):
                answer += chunk
        except (TimeoutError, ConnectionResetError):
            pass
    assert responses(answer) == [408] and time.monotonic() - start < 6


def test_a_key_holder_is_served_while_slow_clients_without_a_key_are_connected(server):
    """70 clients without the key send their headers and start a body, one byte at a time (bounded, loopback)."""
    slow = []
    try:
        for _ in range(70):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{")
            slow.append(s)
        start = time.monotonic()
        r = httpx.get(server.url + "/api/version", headers={"Authorization": f"Bearer {KEY}"}, timeout=10)
        assert r.status_code == 200 and time.monotonic() - start < 5
        for s in slow:  # each was answered 401 and closed, its body never read
            data = b""
            s.settimeout(5)
            while chunk := s.recv(65536):
                data += chunk
            assert responses(data) == [401]
    finally:
        for s in slow:
            s.close()


def test_a_405_says_what_is_allowed_and_v1_errors_have_openais_shape(server):
    r = httpx.delete(server.url + "/api/tags", headers={"Authorization": f"Bearer {KEY}"}, timeout=10)
    assert r.status_code == 405 and r.headers["Allow"] == "GET"
    garbled = exchange(server, b"POST /v1/chat/completions HTTP/1.1\r\n" + b"X-Long: " + b"a" * 70000 + b"\r\n\r\n")
    assert responses(garbled)[0] in (400, 431) and b'"error": {"message"' in garbled  # OpenAI's shape on /v1
    tags = [httpx.get(server.url + "/api/tags", headers={"Authorization": f"Bearer {KEY}"}, timeout=10).json()
            for _ in range(2)]
    assert tags[0] == tags[1]  # modified_at is the file's, not the time of the call


def test_headers_sent_a_byte_at_a_time_are_cut_off_by_one_deadline(server):
    """Each byte arrives well within the 1.5 s timeout; the whole header does not: the connection closes."""
    head = b"GET /api/version HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 40
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        start, closed_after = time.monotonic(), None
        for byte in head:  # 0.2 s a byte: 9 s if the server waited for all of it
            try:
                s.sendall(bytes([byte]))
                readable = select.select([s], [], [], 0.2)[0]
                if readable and s.recv(65536) == b"":
                    closed_after = time.monotonic() - start
                    break
            except OSError:
                closed_after = time.monotonic() - start
                break
    assert closed_after is not None and closed_after < 4, closed_after


def slow_engine(text: str, token_delay: float) -> Engine:
    """An engine whose one model replies ``text`` forever, a word every ``token_delay`` seconds."""
    def loader(alias, kind, n_ctx):
        return ScriptedBackend([Endless(Reply(text, token_delay=token_delay))])
    return Engine(["smollm2-135m"], loader=loader, estimate=lambda a, k, n: 2**20, reap_every_s=3600)


CHAT = {"model": "smollm2-135m", "messages": [{"role": "user", "content": "hi"}]}


def test_connections_beyond_max_open_are_closed_before_a_thread_is_spent():
    with CourseServer(port=0, engine=slow_engine("hi", 0), max_open=4, timeout=5) as server:
        idle = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(4)]
        try:
            time.sleep(0.3)
            with socket.create_connection(("127.0.0.1", server.port), timeout=5) as fifth:
                assert fifth.recv(100) == b""  # closed unanswered
            idle.pop().close()
            time.sleep(0.3)
            assert httpx.get(server.url + "/api/version", timeout=5).status_code == 200
        finally:
            for s in idle:
                s.close()


def test_a_reply_that_is_not_streamed_stops_generating_when_its_client_leaves():
    lines: list[str] = []
    engine = slow_engine(" ".join(["word"] * 400), 0.02)  # 8 s of generation
    with CourseServer(port=0, engine=engine, log=lines.append) as server:
        body = json.dumps({**CHAT, "stream": False}).encode()
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
            s.sendall(b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            time.sleep(0.5)
        start = time.monotonic()
        while not any("left before its reply" in line for line in lines) and time.monotonic() - start < 5:
            time.sleep(0.05)
        assert time.monotonic() - start < 2, lines  # stopped at the next token, not after 8 s
        with httpx.stream("POST", server.url + "/api/chat", json=CHAT, timeout=5) as r:  # the model is free
            lines = r.iter_lines()
            assert r.status_code == 200 and json.loads(next(lines))["message"]["content"] == "word"


def test_drain_lets_requests_in_flight_finish_and_refuses_new_ones():
    engine = slow_engine(" ".join(["word"] * 20), 0.05)  # about 1 s
    server = CourseServer(port=0, engine=engine).start()
    with httpx.Client(base_url=server.url, timeout=10) as client:
        with client.stream("POST", "/api/chat", json=CHAT) as r:
            lines = r.iter_lines()  # one iterator: a dropped one closes the response
            first = next(lines)
            drained: list[int] = []
            drainer = threading.Thread(target=lambda: drained.append(server.drain(grace=10)))
            drainer.start()
            time.sleep(0.2)
            with httpx.Client(base_url=server.url, timeout=5) as other:
                assert other.get("/api/version").status_code == 503  # no new work while draining
            rest = list(lines)
        drainer.join(15)
    assert json.loads(first)["done"] is False and json.loads(rest[-1])["done"] is True  # finished in full
    assert drained == [0]


def test_drain_cuts_off_what_outlasts_the_grace_and_ends_streams_cleanly():
    engine = slow_engine(" ".join(["word"] * 1000), 0.05)  # 50 s
    server = CourseServer(port=0, engine=engine).start()
    with httpx.Client(base_url=server.url, timeout=10) as client:
        with client.stream("POST", "/api/chat", json={**CHAT, "options": {"num_predict": 2000}}) as r:
            lines = r.iter_lines()
            next(lines)
            drained: list[int] = []
            drainer = threading.Thread(target=lambda: drained.append(server.drain(grace=0.5)))
            drainer.start()
            rest = list(lines)  # the chunked stream ends with its terminator: no protocol error
        drainer.join(15)
    assert drained == [1] and rest and not json.loads(rest[-1])["done"]


def test_course_serve_stops_on_sigterm_after_draining(tmp_path):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "course", "serve", "--port", str(port), "--drain", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0 and "stopped" in out, (out, err)
