"""Lesson 10's resource limits: the memory check before a model loads, a backend's timeout, and the run's
deadline and token budget (fakes and a fake clock; one child process under a real RLIMIT_AS)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from course.agent import Agent, AgentError
from course.backends.fake import CallTool, Delay, FakeClock, Raise, Reply, ScriptedBackend
from course.backends.memory_limit import MemoryLimits, MiB, ModelDoesNotFit, cgroup_memory, check_fit
from course.backends.types import BackendError, BackendTimeoutError, BadRequestError
from course.models import model_path
from course.production.resources import Budget, OverBudget, run_within
from course.tools import tool

SMOL = "smollm2-135m"


@tool
def stock(product: str) -> str:
    """How many of a product are in stock."""
    return f"{product}: 12"


# -- the memory check -----------------------------------------------------------------------------------------


def test_no_limit_means_no_problem():
    check = check_fit(model_path(SMOL), 4096, limits=MemoryLimits(None, 100 * MiB))
    assert check.fits and check.problems == []
    # SmolLM2 Q4_1: 92 MiB of weights, 90 MiB of KV cache at 4096 (f16), 96 MiB of logits and the same again
    assert check.parts["kv_cache"] == 90 * MiB and check.parts["logits"] == check.parts["logits_copy"] == 96 * MiB
    assert round(check.resident / MiB) == 278


def test_an_address_space_limit_below_the_need_is_named_with_its_figures():
    check = check_fit(model_path(SMOL), 4096, limits=MemoryLimits(600 * MiB, 200 * MiB))
    assert not check.fits
    assert "RLIMIT_AS 600 MiB" in check.problems[0] and "grow by 400 MiB" in check.problems[0]
    assert check_fit(model_path(SMOL), 4096, limits=MemoryLimits(1200 * MiB, 200 * MiB)).fits


def test_a_cgroup_limit_counts_resident_memory():
    assert not check_fit(model_path(SMOL), 4096, limits=MemoryLimits(None, 0, 400 * MiB, 200 * MiB)).fits
    assert check_fit(model_path(SMOL), 4096, limits=MemoryLimits(None, 0, 600 * MiB, 200 * MiB)).fits


def test_cgroup_limits_are_read_from_v2_and_v1_files(tmp_path):
    proc = tmp_path / "proc"
    proc.mkdir()
    (proc / "cgroup").write_text("0::/user.slice/app\n")
    app = tmp_path / "cg" / "user.slice" / "app"
    app.mkdir(parents=True)
    (app / "memory.max").write_text("1073741824\n")
    (app / "memory.current").write_text("104857600\n")
    assert cgroup_memory(proc, tmp_path / "cg") == (1024 * MiB, 100 * MiB)
    (app / "memory.max").write_text("max\n")
    assert cgroup_memory(proc, tmp_path / "cg") == (None, None)
    (proc / "cgroup").write_text("4:memory:/docker/abc\n0::/\n")
    v1 = tmp_path / "v1" / "memory"  # a container sees its own cgroup as the root
    v1.mkdir(parents=True)
    (v1 / "memory.limit_in_bytes").write_text("536870912\n")
    (v1 / "memory.usage_in_bytes").write_text("1048576\n")
    assert cgroup_memory(proc, tmp_path / "v1") == (512 * MiB, 1 * MiB)
    (v1 / "memory.limit_in_bytes").write_text("9223372036854771712\n")  # v1's "no limit"
    assert cgroup_memory(proc, tmp_path / "v1") == (None, None)


CHILD = textwrap.dedent("""
    import resource, sys
    from course.backends.llama_loader import new_llama
    from course.backends.memory_limit import ModelDoesNotFit
    from course.models import model_path
    resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[1]) << 20,) * 2)
    try:
        new_llama(model_path("smollm2-135m"), n_ctx=4096)
        print("LOADED")
    except ModelDoesNotFit as exc:
        print("REFUSED", exc)
""")


# 400 MiB: without the check, llama.cpp gets half-way and aborts the process (GGML_ASSERT(ctx->mem_buffer !=
# NULL), SIGABRT, measured with llama-cpp-python 0.3.x); at 300 MiB it fails early, with an exception
@pytest.mark.parametrize("check,limit", [("on", 400), ("off", 300)])
def test_under_a_real_rlimit_the_model_is_refused_with_the_reason_not_a_damaged_file_message(check, limit):
    import os

    proc = subprocess.run([sys.executable, "-c", CHILD, str(limit)], capture_output=True, text=True, timeout=120,
                          env=os.environ | {"COURSE_MEMORY_CHECK": check})
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert out.startswith("REFUSED") and "damaged" not in out, out
    if check == "on":  # refused before llama.cpp was asked: the figures, and what to do
        assert "was not loaded" in out and "RLIMIT_AS 400 MiB" in out and "smaller model" in out
    else:  # llama.cpp failed; the message blames the limit, not the file
        assert "memory limit (RLIMIT_AS 300 MiB)" in out


# -- a backend's timeout --------------------------------------------------------------------------------------


def test_a_timeout_stops_a_reply_between_tokens():
    clock = FakeClock()
    model = ScriptedBackend([Reply(" ".join(["w"] * 100), token_delay=0.1)], clock=clock)
    with pytest.raises(BackendTimeoutError, match="timeout of 1 s"):
        model.chat([{"role": "user", "content": "x"}], timeout_s=1.0)
    assert clock.now < 1.2


def test_a_timeout_stops_a_tool_call_that_shows_no_text():
    clock = FakeClock()
    model = ScriptedBackend([Delay(2.0, CallTool("stock", {"product": "kettle"}))], clock=clock)
    with pytest.raises(BackendTimeoutError):
        model.chat([{"role": "user", "content": "x"}], tools=[stock], timeout_s=1.0)


@pytest.mark.parametrize("bad", [0, -1, "3", True, float("nan")])
def test_a_bad_timeout_is_a_bad_request(bad):
    with pytest.raises(BadRequestError, match="timeout_s"):
        ScriptedBackend([Reply("x")]).chat([{"role": "user", "content": "x"}], timeout_s=bad)


# -- the run's deadline and token budget ----------------------------------------------------------------------


def test_within_budget_the_agent_answers_and_the_budget_counts_its_tokens():
    clock = FakeClock()
    model = ScriptedBackend([CallTool("stock", {"product": "kettle"}), Reply("Twelve kettles.")], clock=clock)
    budget = Budget(deadline_s=10, max_tokens=100, clock=clock)
    result = run_within(Agent(model, [stock], max_tokens=64), "kettles?", budget)
    assert result.stop_reason == "answer" and result.answer == "Twelve kettles." and result.error is None
    assert budget.calls == 2 and budget.used_tokens > 0
    assert [r.max_tokens for r in model.requests] == [64, 64]


def test_the_token_budget_is_shared_by_the_calls_of_a_run():
    clock = FakeClock()
    model = ScriptedBackend([CallTool("stock", {"product": "kettle"}), Reply("Twelve.")], clock=clock)
    budget = Budget(max_tokens=20, clock=clock)
    run_within(Agent(model, [stock], max_tokens=64), "kettles?", budget)
    first, second = (r.max_tokens for r in model.requests)
    spent_by_the_call = budget.used_tokens - 1  # the answer "Twelve." is one token
    assert first == 20 and spent_by_the_call > 0 and second == 20 - spent_by_the_call


def test_a_spent_budget_stops_the_run_with_a_reason_not_a_crash():
    clock = FakeClock()
    model = ScriptedBackend([CallTool("stock", {"product": "kettle"}), Reply("never asked")], clock=clock)
    budget = Budget(max_tokens=3, clock=clock)
    result = run_within(Agent(model, [stock]), "kettles?", budget)
    assert result.stop_reason == "over_budget" and result.answer is None
    assert "budget of 3 generated tokens" in result.error and len(model.requests) == 1
    assert [s.kind for s in result.trace.steps] == ["model", "tool"]  # what finished is kept


def test_the_deadline_cuts_the_second_call_in_the_middle():
    clock = FakeClock()
    model = ScriptedBackend([Delay(0.5, CallTool("stock", {"product": "kettle"})),
                             Reply(" ".join(["w"] * 100), token_delay=0.1)], clock=clock)
    agent = Agent(model, [stock])
    result = run_within(agent, "kettles?", Budget(deadline_s=2.0, clock=clock))
    assert result.stop_reason == "over_budget" and "deadline of 2 s" in result.error
    assert 2.0 <= clock.now < 2.2
    assert agent.backend is model  # the wrapper is gone after the run


def test_a_failure_that_is_not_the_budget_still_raises():
    model = ScriptedBackend([Raise(BackendError("the server is gone"))])
    with pytest.raises(AgentError, match="the server is gone"):
        run_within(Agent(model), "hi", Budget(deadline_s=5))


@pytest.mark.parametrize("kwargs", [{"deadline_s": 0}, {"max_tokens": 0}])
def test_an_impossible_budget_is_refused_when_made(kwargs):
    with pytest.raises(ValueError):
        Budget(**kwargs)


def test_over_budget_is_a_backend_error():
    assert issubclass(OverBudget, BackendError)
