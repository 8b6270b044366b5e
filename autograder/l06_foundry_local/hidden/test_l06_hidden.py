"""Hidden tests of lesson 06: the edges a quick solution gets wrong."""

import pytest

from course.foundry.variants import VARIANTS, Variant

PHI = VARIANTS["phi-4-mini"]


def test_select_names_what_is_missing(target):
    with pytest.raises(LookupError) as err:
        target.load("variants").select_variant(PHI[:2], ["CPUExecutionProvider"])
    assert "CUDAExecutionProvider" in str(err.value) and "QNNExecutionProvider" in str(err.value)


def test_select_respects_what_a_provider_serves(target):
    select = target.load("variants").select_variant
    odd = [Variant("x-qnn-as-gpu", "GPU", "QNNExecutionProvider"), Variant("x-openvino-npu", "NPU", "OpenVINOExecutionProvider"),
           Variant("x-cpu", "CPU", "CPUExecutionProvider")]
    providers = ["QNNExecutionProvider", "OpenVINOExecutionProvider", "CPUExecutionProvider"]
    assert select(odd, providers).model_id == "x-openvino-npu"  # QNN serves NPUs, not GPUs


def test_idle_exactly_at_the_limit_goes(target):
    plan = target.load("unloading").plan_unloads
    assert plan({"a": {"size": 1, "last_used": 40.0, "busy": 0}}, now=100.0, idle_s=60.0) == [("a", "idle")]


def test_plan_refuses_a_negative_idle_and_an_impossible_fit(target):
    plan = target.load("unloading").plan_unloads
    with pytest.raises(ValueError):
        plan({}, now=0, idle_s=-1)
    with pytest.raises(ValueError):
        plan({"a": {"size": 300, "last_used": 0, "busy": 1}, "b": {"size": 100, "last_used": 0, "busy": 0}},
             now=1, idle_s=60, needed=200, budget=400)


def test_health_exactly_at_slow_s_is_healthy(target):
    ticks = iter([10.0, 15.0])
    result = target.load("health").check_health(prepared=True, loaded=True, probe=lambda: "ok", slow_s=5.0,
                                                clock=lambda: next(ticks))
    assert result["state"] == "healthy" and result["probe_s"] == pytest.approx(5.0)


def test_health_failing_names_the_error(target):
    def probe():
        raise TimeoutError("no answer in 30 s")

    result = target.load("health").check_health(prepared=True, loaded=True, probe=probe)
    assert result["state"] == "failing" and result["detail"].startswith("TimeoutError")
    assert result["probe_s"] is not None and result["probe_s"] >= 0


def test_metrics_with_no_requests(target):
    s = target.load("metrics").Metrics().summary()
    assert s == {"requests": 0, "errors": 0, "error_rate": 0.0, "p50_s": None, "p95_s": None}


def test_percentile_of_one_value_and_the_ends(target):
    percentile = target.load("metrics").percentile
    assert all(percentile([2.5], q) == 2.5 for q in (0, 37.5, 100))
    assert percentile([3.0, 1.0, 2.0], 0) == 1.0 and percentile([3.0, 1.0, 2.0], 100) == 3.0
