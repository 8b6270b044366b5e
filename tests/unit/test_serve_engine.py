"""The engine's policies with a fake loader and a fake clock: no model is loaded here."""

from __future__ import annotations

import math
import socket
import subprocess
import sys
import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from course.backends import FakeClock
from course.net import free_port
from course.servers import Engine, FairQueue, parse_keep_alive
from course.servers.engine import OverBudget

MiB = 2**20
SIZES = {"smollm2-135m": 300 * MiB, "gemma3-270m": 800 * MiB}


class FakeModel:
    def __init__(self, alias):
        self.alias = alias
        self.closed = False

    def close(self):
        self.closed = True


def make_engine(**kw) -> tuple[Engine, FakeClock, list[FakeModel]]:
    clock = FakeClock(1000.0)
    made: list[FakeModel] = []

    def loader(alias, kind, n_ctx):
        made.append(FakeModel(alias))
        return made[-1]

    engine = Engine(["smollm2-135m", "gemma3-270m"], loader=loader, estimate=lambda a, k, n: SIZES[a] * n // 4096,
                    clock=clock, reap_every_s=3600, **kw)
    return engine, clock, made


def test_a_model_loads_once_and_is_reused():
    engine, clock, made = make_engine()
    with engine.use("smollm2-135m") as first:
        assert first.load_s >= 0
    with engine.use("smollm2-135m:latest") as again:
        assert again.load_s == 0.0 and again.backend is first.backend
    assert len(made) == 1
    engine.close()
    assert made[0].closed


def test_idle_models_unload_after_keep_alive_and_a_request_can_change_it():
    engine, clock, made = make_engine(keep_alive_s=300)
    engine.load("smollm2-135m")
    engine.load("gemma3-270m", keep_alive=math.inf)
    clock.now += 299
    assert engine.unload_idle() == []
    clock.now += 2
    assert engine.unload_idle() == ["smollm2-135m"] and made[0].closed
    clock.now += 10**6
    assert engine.unload_idle() == [] and [s.alias for s in engine.loaded()] == ["gemma3-270m"]
    engine.load("smollm2-135m", keep_alive=0)  # unloads right after the request
    assert [s.alias for s in engine.loaded()] == ["gemma3-270m"]
    engine.close()


def test_a_model_in_use_is_never_unloaded():
    engine, clock, made = make_engine(keep_alive_s=1)
    with engine.use("smollm2-135m"):
        clock.now += 100
        assert engine.unload_idle() == []
    assert engine.unload_idle() == []  # the request just ended: its keep-alive starts now
    clock.now += 2
    assert engine.unload_idle() == ["smollm2-135m"]
    engine.close()


def test_the_budget_unloads_the_least_recently_used_idle_model():
    engine, clock, made = make_engine(memory_budget=1200 * MiB)
    engine.load("smollm2-135m")
    clock.now += 1
    engine.load("gemma3-270m")  # 300 + 800 fit
    clock.now += 1
    engine.load("smollm2-135m")  # used again: now gemma is the least recent
    assert len(made) == 2
    engine.load("smollm2-135m", n_ctx=8192)  # a longer context replaces its copy: 800 + 600 > 1200
    assert [m.alias for m in made if m.closed] == ["smollm2-135m", "gemma3-270m"]
    assert engine.resident_bytes() <= 1200 * MiB
    assert any("unload gemma3-270m (chat, memory budget)" in e for e in engine.events)
    engine.close()


def test_many_contexts_keep_one_copy_of_a_model():
    """Six num_ctx values used to load six copies (48 to 807 MiB); now a model is in memory once (issue 18)."""
    engine, clock, made = make_engine()
    for n_ctx in range(300, 306):  # smaller than the server's 4096: they share its copy
        assert engine.load("smollm2-135m", n_ctx=n_ctx) >= 0
    assert len(made) == 1 and [(s.alias, s.n_ctx) for s in engine.loaded()] == [("smollm2-135m", 4096)]
    engine.load("smollm2-135m", n_ctx=8192)  # longer: reloaded with it, the old copy closed
    engine.load("smollm2-135m", n_ctx=5000)  # shorter than what is loaded: shared
    assert len(made) == 2 and made[0].closed and [s.n_ctx for s in engine.loaded()] == [8192]
    engine.load("smollm2-135m", keep_alive=0)
    assert engine.loaded() == [] and made[1].closed  # keep_alive 0 unloads the one copy there is
    engine.close()


def test_a_model_bigger_than_the_budget_is_refused_with_the_fix():
    engine, _, _ = make_engine(memory_budget=500 * MiB)
    with pytest.raises(OverBudget, match="--memory-budget"):
        engine.load("gemma3-270m")
    engine.close()


def test_unknown_and_unserved_names_say_what_is_served():
    engine, _, _ = make_engine()
    with pytest.raises(Exception, match="Known models"):
        engine.resolve("llama3")
    with pytest.raises(Exception, match="not served by this server"):
        engine.resolve("qwen2.5-coder-0.5b")
    engine.close()


def test_the_queue_serves_in_arrival_order():
    queue = FairQueue()
    order: list[int] = []

    def worker(i: int) -> None:
        with queue.turn():
            order.append(i)

    threads = []
    with queue.turn():  # hold the line while six threads queue up, one after another
        for i in range(6):
            threads.append(threading.Thread(target=worker, args=(i,)))
            threads[-1].start()
            while queue.waiting < i + 2:  # thread i holds its ticket before thread i + 1 starts
                time.sleep(0.001)
    for t in threads:
        t.join(timeout=10)
    assert order == list(range(6))


@pytest.mark.parametrize("value,seconds", [
    (None, None), ("", None), (0, 0.0), ("0", 0.0), (30, 30.0), ("30s", 30.0), ("5m", 300.0), ("1h30m", 5400.0),
    ("1.5h", 5400.0), ("250ms", 0.25), (-1, math.inf), ("-1", math.inf), ("-1m", math.inf),
    (1e300, math.inf), ("100000000000h", math.inf), (float("inf"), math.inf),
])
def test_keep_alive_reads_ollamas_forms(value, seconds):
    assert parse_keep_alive(value) == seconds


@pytest.mark.parametrize("value", ["soon", "5 minutes", "1h30", True, [], {}, "m5", "nan"])
def test_keep_alive_refuses_the_rest(value):
    with pytest.raises(ValueError, match="keep_alive"):
        parse_keep_alive(value)


@given(st.integers(0, 10**6))
def test_keep_alive_minutes_and_seconds_agree(n):
    assert parse_keep_alive(f"{n}m") == parse_keep_alive(n * 60) == n * 60


def test_cli_refuses_a_public_address_and_a_busy_port():
    public = subprocess.run([sys.executable, "-m", "course", "serve", "--host", "0.0.0.0", "--port", "0"],
                            capture_output=True, text=True, timeout=60)
    assert public.returncode == 2 and "--allow-remote" in public.stderr
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "course", "serve", "--port", str(port)],
                              capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "in use" in proc.stderr and "--port" in proc.stderr
    bad = subprocess.run([sys.executable, "-m", "course", "serve", "--keep-alive", "soon"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "keep_alive" in bad.stderr


def test_cli_serves_until_stopped_and_warns_when_public():
    import ollama

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "course", "serve", "--port", str(port), "--model", "smollm2-135m",
                             "--host", "0.0.0.0", "--allow-remote", "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                models = ollama.Client(host=f"http://127.0.0.1:{port}").list().models
                break
            except (ConnectionError, OSError):
                assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read()
                time.sleep(0.2)
        assert [m.model for m in models] == ["smollm2-135m:latest"]
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    err = " ".join(err.split())  # rich wraps long lines
    assert "warning" in err and "no --api-key" in err
    assert f"127.0.0.1:{port}" in out or f"0.0.0.0:{port}" in out


def test_ipv6_loopback_is_served_and_health_says_only_alive():
    import httpx

    from course.servers import CourseServer

    with CourseServer(host="::1", port=0, models=["smollm2-135m"], api_key="k") as server:
        assert server.url.startswith("http://[::1]:")
        health = httpx.get(server.url + "/health", timeout=30)  # no key: a liveness probe
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        assert httpx.get(server.url + "/api/ps", timeout=30).status_code == 401  # what is loaded needs the key


def test_an_empty_api_key_is_refused():
    from course.servers import CourseServer, ExposureError

    with pytest.raises(ExposureError, match="empty API key would let every request in"):
        CourseServer(port=0, api_key="")
    proc = subprocess.run([sys.executable, "-m", "course", "serve", "--port", "0", "--api-key", ""],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "empty API key" in proc.stderr
