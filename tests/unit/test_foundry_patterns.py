"""Lesson 06's patterns without the runtime: variant selection by hardware, the model manager on fakes."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from course.backends import BackendError, Reply, ScriptedBackend
from course.backends.fake import Endless, Raise
from course.foundry.manager import ModelManager
from course.observability import resident_bytes
from course.foundry.variants import DEVICES, PROVIDER_DEVICES, VARIANTS, Variant, available_providers, select_variant

PHI = VARIANTS["phi-4-mini"]


def test_the_best_device_that_can_run_wins_and_the_cpu_is_the_fallback():
    assert select_variant(PHI, ["CUDAExecutionProvider", "CPUExecutionProvider"]).device == "GPU"
    assert select_variant(PHI, ["QNNExecutionProvider", "CPUExecutionProvider"]).device == "NPU"
    assert select_variant(PHI, ["CPUExecutionProvider"]).model_id == "phi-4-mini-instruct-generic-cpu"
    both = ["CUDAExecutionProvider", "QNNExecutionProvider", "CPUExecutionProvider"]
    assert select_variant(PHI, both, prefer=("NPU", "GPU", "CPU")).device == "NPU"
    assert select_variant(PHI, both, device="CPU").device == "CPU"  # declared, not detected
    assert select_variant(PHI, ["CPUExecutionProvider"], device="GPU").device == "CPU"  # declared but absent


def test_no_runnable_variant_says_what_is_missing():
    gpu_only = [Variant("m-cuda-gpu", "GPU", "CUDAExecutionProvider")]
    with pytest.raises(LookupError, match="need CUDAExecutionProvider; this machine has CPUExecutionProvider"):
        select_variant(gpu_only, ["CPUExecutionProvider"])
    with pytest.raises(ValueError):
        Variant("x", "TPU", "CPUExecutionProvider")


@given(st.lists(st.sampled_from(sorted(PROVIDER_DEVICES)), unique=True), st.permutations(list(DEVICES)))
def test_selection_never_picks_what_cannot_run_and_never_misses_a_better_one(providers, prefer):
    providers = [*providers, "CPUExecutionProvider"]
    chosen = select_variant(PHI, providers, prefer=prefer)
    assert chosen.provider in providers and chosen.device in PROVIDER_DEVICES[chosen.provider]
    runnable = {v.device for v in PHI if v.provider in providers}
    assert chosen.device == next(d for d in prefer if d in runnable)


def test_this_machine_has_the_cpu_provider():
    assert "CPUExecutionProvider" in available_providers()


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def fake_loader(made):
    def load(alias):
        backend = ScriptedBackend([Endless(Reply("ok"))], model=alias)
        backend.closed = False
        backend.close = lambda: setattr(backend, "closed", True)
        made.append(backend)
        return backend
    return load


def test_health_tells_not_prepared_from_not_loaded_from_failing():
    made = []
    manager = ModelManager(fake_loader(made), prepared=lambda a: a != "missing")
    assert manager.health("missing").state == "not prepared"
    assert manager.health("m").state == "not loaded" and not manager.health("m").ok
    manager.load("m")
    healthy = manager.health("m")
    assert healthy.state == "healthy" and healthy.ok and healthy.probe_s is not None
    failing = ModelManager(lambda a: ScriptedBackend([Raise(BackendError("the runtime crashed"))]))
    failing.load("m")
    got = failing.health("m")
    assert got.state == "failing" and "crashed" in got.detail and failing.metrics("m")["errors"] == 1


def test_idle_models_are_unloaded_and_busy_ones_never():
    clock, made = Clock(), []
    manager = ModelManager(fake_loader(made), idle_s=60, clock=clock)
    manager.chat("a", [{"role": "user", "content": "hi"}])
    clock.t = 30
    manager.chat("b", [{"role": "user", "content": "hi"}])
    clock.t = 61
    assert manager.reap() == ["a"] and made[0].closed and set(manager.loaded) == {"b"}
    manager.loaded["b"].in_use = 1  # in use: never unloaded, however idle
    clock.t = 1000
    assert manager.reap() == [] and "b" in manager.loaded


def test_the_memory_budget_unloads_the_least_recently_used_first():
    clock, made = Clock(), []
    manager = ModelManager(fake_loader(made), size_of=lambda a: 100, memory_budget=250, clock=clock)
    for t, alias in enumerate(["a", "b", "a", "c"]):
        clock.t = t
        manager.chat(alias, [{"role": "user", "content": "hi"}])
    assert set(manager.loaded) == {"a", "c"} and "unloaded b (memory budget)" in manager.events
    with pytest.raises(BackendError, match="more than the whole budget"):
        ModelManager(fake_loader([]), size_of=lambda a: 300, memory_budget=250).load("huge")


def test_metrics_count_requests_errors_and_latency():
    manager = ModelManager(lambda a: ScriptedBackend([Reply("x"), Raise(BackendError("boom")), Reply("y")]))
    messages = [{"role": "user", "content": "hi"}]
    manager.chat("m", messages)
    with pytest.raises(BackendError):
        manager.chat("m", messages)
    manager.chat("m", messages)
    m = manager.metrics("m")
    assert (m["requests"], m["errors"]) == (3, 1) and m["error_rate"] == pytest.approx(1 / 3)
    assert 0 <= m["p50_s"] <= m["p95_s"] and m["loaded"]
    assert resident_bytes() is None or resident_bytes() > 10_000_000
