"""course serve's HTTP framing and connection limits, over raw sockets (issue 18): no request smuggling,
no lock-out by slow clients, a body that trickles is cut off by a deadline, not kept alive byte by byte."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from course.servers import CourseServer

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
