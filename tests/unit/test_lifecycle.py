"""The one model lifecycle (course.lifecycle.ResidentModels) that course serve's engine and lesson 06's manager use."""

from __future__ import annotations

import threading

import pytest

from course.backends import FakeClock
from course.lifecycle import NoRoom, ResidentModels


class Model:
    def __init__(self, name):
        self.name, self.closed = name, False

    def close(self):
        self.closed = True


def test_load_hold_idle_and_budget():
    clock, log = FakeClock(), []
    models = ResidentModels(memory_budget=250, clock=clock, on_load=lambda r: log.append(f"load {r.key}"),
                            on_unload=lambda r, why: log.append(f"unload {r.key} ({why})"))
    a, load_s = models.ensure("a", lambda: Model("a"), size=100, keep_alive_s=60)
    assert load_s >= 0 and models.ensure("a", lambda: pytest.fail("loaded twice"), size=100)[1] == 0.0
    clock.now = 10
    b, _ = models.ensure("b", lambda: Model("b"), size=100, keep_alive_s=60)
    with models.hold(a):  # in use: never unloaded for room, however old
        clock.now = 20
        c, _ = models.ensure("c", lambda: Model("c"), size=100, keep_alive_s=60)
        assert set(models.entries) == {"a", "c"} and b.backend.closed
        with pytest.raises(NoRoom) as no_room:
            models.ensure("d", lambda: Model("d"), size=200)
        assert not no_room.value.whole and no_room.value.held == 200 and "c" in models.entries  # c stays
    assert a.last_used == 20 and a.in_use == 0
    with pytest.raises(NoRoom) as too_big:
        models.ensure("huge", lambda: Model("huge"), size=300)
    assert too_big.value.whole
    clock.now = 80  # a: last used at 20, c: loaded at 20; both 60 s idle now
    assert sorted(models.unload_idle()) == ["a", "c"] and models.resident_bytes() == 0
    assert log == ["load a", "load b", "unload b (memory budget)", "load c", "unload a (idle)", "unload c (idle)"]


def test_two_threads_loading_one_model_keep_one_copy():
    models, made, gate = ResidentModels(), [], threading.Barrier(2)

    def load():
        model = Model(len(made))
        made.append(model)
        gate.wait(timeout=5)  # both loads are under way before either is filed
        return model

    threads = [threading.Thread(target=models.ensure, args=("m", load), kwargs={"size": 1}) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    kept = models.entries["m"].backend
    assert len(made) == 2 and [m.closed for m in made if m is not kept] == [True] and not kept.closed
