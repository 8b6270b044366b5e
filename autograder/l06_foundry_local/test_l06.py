"""Autograder for lesson 06: Foundry Local, for real and offline.

Variant selection and the unload policy are graded on their promises under
hypothesis; the health check and the metrics collector with fakes and a fake
clock, then on a real runtime: SmolLM2 on Foundry Local where it is installed
and prepared, on llama.cpp elsewhere (the ``local_runtime`` fixture), for the
same points.
"""

import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from course.foundry.variants import DEVICES, PROVIDER_DEVICES, VARIANTS, Variant, available_providers
from course.foundry.variants import select_variant as reference_select

PHI = VARIANTS["phi-4-mini"]
CUDA, QNN, CPU = "CUDAExecutionProvider", "QNNExecutionProvider", "CPUExecutionProvider"


def can_run(v, providers):
    return v.provider in providers and v.device in PROVIDER_DEVICES[v.provider]


# --- l06.1 variant selection ---------------------------------------------------------

def test_select_prefers_gpu_then_npu_then_cpu(target):
    select = target.load("variants").select_variant
    assert select(PHI, [CUDA, QNN, CPU]).device == "GPU"
    assert select(PHI, [QNN, CPU]).model_id == "phi-4-mini-instruct-qnn-npu"
    assert select(PHI, [CPU]).model_id == "phi-4-mini-instruct-generic-cpu"


def test_select_honours_a_declared_device(target):
    select = target.load("variants").select_variant
    assert select(PHI, [CUDA, QNN, CPU], device="NPU").device == "NPU"
    assert select(PHI, [CPU], device="GPU").device == "CPU"  # declared, not here: the CPU fallback
    with pytest.raises(ValueError):
        select(PHI, [CPU], device="TPU")


variant = st.builds(Variant, st.text("abcdef", min_size=1, max_size=6), st.sampled_from(DEVICES),
                    st.sampled_from(sorted(PROVIDER_DEVICES)))


@given(st.lists(variant, max_size=6), st.sets(st.sampled_from(sorted(PROVIDER_DEVICES))))
def test_select_never_picks_what_cannot_run(target, variants, providers):
    select = target.load("variants").select_variant
    providers = sorted(providers)
    runnable = [v for v in variants if can_run(v, providers)]
    if not runnable:
        with pytest.raises(LookupError):
            select(variants, providers)
        return
    chosen = select(variants, providers)
    assert chosen in runnable
    better = DEVICES[:DEVICES.index(chosen.device)]
    assert not [v for v in runnable if v.device in better], "a better device class could run"
    assert chosen == next(v for v in runnable if v.device == chosen.device), "not the first in table order"


def test_select_on_this_machine(target):
    providers = available_providers()
    chosen = target.load("variants").select_variant(PHI, providers)
    assert chosen == reference_select(PHI, providers) and can_run(chosen, providers)


# --- l06.2 idle and memory-budget unloading ------------------------------------------

def model(size=100, last_used=0.0, busy=0):
    return {"size": size, "last_used": last_used, "busy": busy}


def test_idle_models_go_oldest_first(target):
    plan = target.load("unloading").plan_unloads
    models = {"a": model(last_used=50), "b": model(last_used=10), "c": model(last_used=95)}
    assert plan(models, now=100, idle_s=30) == [("b", "idle"), ("a", "idle")]
    assert plan(models, now=100, idle_s=300) == []


def test_busy_models_are_never_unloaded(target):
    plan = target.load("unloading").plan_unloads
    models = {"old": model(last_used=0, busy=1), "new": model(last_used=90)}
    assert plan(models, now=1000, idle_s=10) == [("new", "idle")]
    assert plan(models, now=95, idle_s=600, needed=150, budget=250) == [("new", "memory budget")]


def test_budget_unloads_least_recent_until_it_fits(target):
    plan = target.load("unloading").plan_unloads
    models = {"a": model(100, 30), "b": model(100, 10), "c": model(100, 20), "d": model(100, 40)}
    assert plan(models, now=50, idle_s=600, needed=100, budget=400) == [("b", "memory budget")]
    assert plan(models, now=50, idle_s=600, needed=250, budget=400) == [("b", "memory budget"),
                                                                         ("c", "memory budget"),
                                                                         ("a", "memory budget")]
    assert plan(models, now=50, idle_s=600, needed=0, budget=400) == []
    # idle ones go first, and the room they free counts
    assert plan(models, now=50, idle_s=35, needed=100, budget=300) == [("b", "idle"), ("c", "memory budget")]


models_st = st.dictionaries(st.sampled_from("abcdefgh"),
                            st.fixed_dictionaries({"size": st.integers(1, 100), "last_used": st.integers(0, 100),
                                                   "busy": st.integers(0, 2)}), max_size=8)


@given(models_st, st.integers(0, 150), st.integers(0, 150), st.one_of(st.none(), st.integers(0, 600)))
def test_plan_keeps_its_promises(target, models, idle_s, needed, budget):
    plan = target.load("unloading").plan_unloads
    busy = {a for a, m in models.items() if m["busy"]}
    if budget is not None and sum(models[a]["size"] for a in busy) + needed > budget:
        with pytest.raises(ValueError):
            plan(models, now=100, idle_s=idle_s, needed=needed, budget=budget)
        return
    got = plan(models, now=100, idle_s=idle_s, needed=needed, budget=budget)
    gone = [a for a, _ in got]
    assert len(gone) == len(set(gone)) and not set(gone) & busy
    idle = {a for a, m in models.items() if not m["busy"] and 100 - m["last_used"] >= idle_s}
    assert {a for a, r in got if r == "idle"} == idle
    left = sum(m["size"] for a, m in models.items() if a not in gone)
    if budget is not None:
        assert left + needed <= budget
        pressed = [a for a, r in got if r == "memory budget"]
        if pressed:  # no more than needed: without the last one it would not have fit
            assert left + models[pressed[-1]]["size"] + needed > budget
            last_used = [models[a]["last_used"] for a in pressed]
            kept = [models[a]["last_used"] for a in models if a not in gone and a not in busy]
            assert last_used == sorted(last_used) and all(t >= max(last_used) for t in kept)
    else:
        assert all(r == "idle" for _, r in got)


# --- l06.3 health ---------------------------------------------------------------------

class Clock:
    """A clock that moves only when the probe says so."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def probe_taking(clock, seconds, reply="ok"):
    def probe():
        clock.now += seconds
        if isinstance(reply, BaseException):
            raise reply
        return reply
    return probe


def test_health_not_prepared_and_not_loaded_never_probe(target):
    check = target.load("health").check_health

    def probe():
        raise AssertionError("the probe must not run: it would load the model")

    assert check(prepared=False, loaded=False, probe=probe)["state"] == "not prepared"
    result = check(prepared=True, loaded=False, probe=probe)
    assert result["state"] == "not loaded" and result["probe_s"] is None


def test_health_failing_when_the_probe_raises_or_is_empty(target):
    check = target.load("health").check_health
    clock = Clock()
    raised = check(prepared=True, loaded=True, probe=probe_taking(clock, 0.2, RuntimeError("model crashed")),
                   clock=clock)
    assert raised["state"] == "failing" and "model crashed" in raised["detail"]
    assert raised["probe_s"] == pytest.approx(0.2)
    empty = check(prepared=True, loaded=True, probe=probe_taking(clock, 0.1, "  \n"), clock=clock)
    assert empty["state"] == "failing"


def test_health_slow_and_healthy_by_the_clock(target):
    check = target.load("health").check_health
    clock = Clock()
    slow = check(prepared=True, loaded=True, probe=probe_taking(clock, 7.5), slow_s=5, clock=clock)
    assert slow["state"] == "slow" and slow["probe_s"] == pytest.approx(7.5)
    fine = check(prepared=True, loaded=True, probe=probe_taking(clock, 0.4), slow_s=5, clock=clock)
    assert fine["state"] == "healthy" and fine["probe_s"] == pytest.approx(0.4)


def test_health_on_the_real_model(target, local_runtime):
    check = target.load("health").check_health

    def probe():
        return local_runtime.chat([{"role": "user", "content": "Reply with the word ok."}], max_tokens=4,
                            temperature=0).content

    start = time.perf_counter()
    result = check(prepared=True, loaded=True, probe=probe, slow_s=600)
    took = time.perf_counter() - start
    assert result["state"] == "healthy" and 0 < result["probe_s"] <= took
    assert check(prepared=True, loaded=True, probe=probe, slow_s=0)["state"] == "slow"  # real time is never 0


# --- l06.4 metrics ---------------------------------------------------------------------

latencies = st.lists(st.floats(0, 1000, allow_nan=False), min_size=1, max_size=50)


@given(latencies, st.floats(0, 100))
def test_percentile_agrees_with_numpy(target, values, q):
    got = target.load("metrics").percentile(values, q)
    assert got == pytest.approx(float(np.percentile(values, q)), rel=1e-9, abs=1e-9)


def test_percentile_refuses_nothing_and_bad_q(target):
    percentile = target.load("metrics").percentile
    for values, q in (([], 50), ([1.0], -1), ([1.0], 101)):
        with pytest.raises(ValueError):
            percentile(values, q)


def test_metrics_counts_errors_and_keeps_a_window(target):
    m = target.load("metrics").Metrics(window=4)
    for seconds in (10.0, 10.0, 1.0, 2.0, 3.0):
        m.record(seconds)
    m.record(4.0, ok=False)  # a failure counts, and so does its time
    s = m.summary()
    assert s["requests"] == 6 and s["errors"] == 1 and s["error_rate"] == pytest.approx(1 / 6)
    assert s["p50_s"] == pytest.approx(2.5) and s["p95_s"] == pytest.approx(3.85)


def test_metrics_of_real_requests(target, local_runtime):
    m = target.load("metrics").Metrics()
    times = []
    for prompt in ("Say hi.", "Name a colour.", "Count to three."):
        start = time.perf_counter()
        local_runtime.chat([{"role": "user", "content": prompt}], max_tokens=6, temperature=0)
        times.append(time.perf_counter() - start)
        m.record(times[-1])
    s = m.summary()
    assert s["requests"] == 3 and s["errors"] == 0 and s["p50_s"] == pytest.approx(sorted(times)[1])
    assert sorted(times)[1] <= s["p95_s"] <= max(times)
