"""Lesson 08's library without vLLM: the block allocator, the scheduler and its simulator, prompt-lookup drafts,
/metrics parsing, the service with back-pressure, the memory plan, and the setup's messages."""

import math
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from course.vllm import metrics as prom
from course.vllm.paged import OutOfBlocks, PagedBlockAllocator, block_hashes
from course.vllm.scheduler import Request, SchedulerConfig, simulate
from course.vllm.service import AgentService, RequestTimedOut, ServerPlan, ServiceBusy, fractions_fit, memory_plan
from course.vllm.speculative import accept_greedy, propose_ngram

SAMPLE = Path(__file__).resolve().parents[2] / "course" / "data" / "vllm_metrics_sample.txt"


# --- the allocator

def test_prefix_blocks_are_shared_and_stay_cached_after_free():
    a = PagedBlockAllocator(10, 4)
    assert a.allocate("x", list(range(10))) == 0  # 3 blocks, two of them full and hashed
    assert a.num_used == 3
    assert a.allocate("y", list(range(8)) + [99, 98]) == 8  # the two full blocks come from the cache
    assert a.num_used == 4 and a.seqs["y"].blocks[:2] == a.seqs["x"].blocks[:2]
    a.free_sequence("x")
    a.free_sequence("y")
    assert a.num_free == 10 and a.cached_prefix(list(range(8))) == 8  # freed, still cached
    assert a.allocate("z", list(range(8))) == 4  # a prompt cached whole computes its last block
    assert a.hit_tokens == 12 and a.query_tokens == 28


def test_copy_on_write_and_out_of_blocks():
    a = PagedBlockAllocator(3, 4)
    a.allocate("p", [1, 2, 3, 4, 5])
    a.fork("p", "c")
    a.append_token("c", 6)
    assert a.copies == 1 and a.seqs["c"].blocks[0] == a.seqs["p"].blocks[0] != a.seqs["c"].blocks[1]
    with pytest.raises(OutOfBlocks):
        a.allocate("big", list(range(100, 120)))
    assert a.num_free == 0 and "big" not in a.seqs


@given(st.lists(st.integers(0, 3), min_size=1, max_size=40), st.sampled_from([1, 2, 8]))
def test_hashes_are_a_chain(tokens, size):
    hashes = block_hashes(tokens, size)
    assert len(hashes) == len(tokens) // size and len(set(hashes)) == len(hashes)


# --- the scheduler

def test_a_shared_900_token_prefix_hits_896_positions_with_vllms_cpu_block_size():
    prefix = list(range(900))
    sim = simulate([Request("a", prefix + [1, 2], 4), Request("b", prefix + [3, 4], 4, arrival=20)],
                   num_blocks=50, block_size=128)
    assert sim.prefix_hit_tokens == 896 and sim.preemptions == 0


def test_a_small_cache_preempts_and_still_finishes_everything():
    reqs = [Request(f"r{i}", [i * 100 + t for t in range(60)], 100) for i in range(8)]
    roomy = simulate(reqs, num_blocks=8 * 10, block_size=16)  # 160 positions each: 10 blocks
    tight = simulate([Request(r.id, r.prompt, r.max_tokens) for r in reqs], num_blocks=20, block_size=16)
    assert roomy.preemptions == 0 and tight.preemptions > 0
    assert all(r.done for r in tight.requests) and tight.steps > roomy.steps
    with pytest.raises(ValueError, match="needs"):
        simulate([Request("huge", list(range(1000)), 10)], num_blocks=4, block_size=16)


@given(st.lists(st.tuples(st.integers(1, 50), st.integers(1, 30)), min_size=1, max_size=8),
       st.integers(1, 8), st.integers(1, 64))
def test_every_step_keeps_the_limits(shapes, seqs, budget):
    reqs = [Request(f"r{i}", list(range(p)), m) for i, (p, m) in enumerate(shapes)]
    need = max(-(-(p + m) // 8) for p, m in shapes)
    sim = simulate(reqs, num_blocks=need + 2, block_size=8,
                   config=SchedulerConfig(max_num_seqs=seqs, max_num_batched_tokens=budget))
    assert max(sim.tokens_per_step) <= budget and all(len(r.output) == r.max_tokens for r in sim.requests)


# --- drafts

def test_prompt_lookup_and_acceptance():
    assert propose_ngram([1, 2, 3, 4, 1, 2], 3) == [3, 4, 1]
    assert propose_ngram([1, 2, 3], 2) == [] and accept_greedy([5, 6], [5, 7, 0]) == [5, 7]
    assert accept_greedy([], [9]) == [9] and accept_greedy([1, 2], [1, 2, 3]) == [1, 2, 3]
    with pytest.raises(ValueError):
        propose_ngram([1], 0)


# --- metrics

def test_a_real_vllm_metrics_page_parses():
    """A /metrics page saved from vLLM 0.32 on the CPU after one request (course/data/vllm_metrics_sample.txt)."""
    samples = prom.parse(SAMPLE.read_text())
    summary = prom.summary(samples)
    assert summary["running"] == 0 and summary["prefix_queries"] > 0 and summary["preemptions"] == 0
    assert 0 < summary["ttft_p50_s"] <= summary["ttft_p95_s"]
    assert prom.buckets(samples, prom.TTFT)[-1][0] == math.inf


def test_histogram_quantile_follows_prometheus():
    b = [(0.1, 10.0), (0.5, 30.0), (1.0, 40.0), (math.inf, 40.0)]
    assert prom.histogram_quantile(0.5, b) == pytest.approx(0.3)
    assert prom.histogram_quantile(0.99, [(1.0, 1.0), (math.inf, 10.0)]) == 1.0
    assert math.isnan(prom.histogram_quantile(0.5, [(1.0, 0.0), (math.inf, 0.0)]))


# --- the service

def test_back_pressure_refuses_at_once_and_deadlines_drop_stale_work():
    gate = threading.Event()
    calls = []

    def send(message):
        calls.append(message)
        gate.wait(5)
        return message.upper()

    with AgentService(send, workers=1, max_queue=2, timeout_s=0.3) as service:
        first = service.submit("a")  # taken by the worker, which blocks
        time.sleep(0.1)
        service.submit("b")
        service.submit("c")
        with pytest.raises(ServiceBusy):
            service.submit("d")
        time.sleep(0.4)  # b and c are past their deadline now
        gate.set()
        assert first.result(2) == "A"
    assert calls == ["a"] and service.stats.expired == 2 and service.stats.rejected == 1


def test_ask_times_out_and_errors_reach_the_caller():
    with AgentService(lambda m: time.sleep(1) or m, workers=1, timeout_s=0.2) as slow:
        with pytest.raises(RequestTimedOut):
            slow.ask("x")
    with AgentService(lambda m: 1 / 0, workers=2) as broken:
        with pytest.raises(ZeroDivisionError):
            broken.ask("x")
        assert broken.stats.failed == 1


def test_the_sources_three_servers_do_not_fit_one_gpu():
    assert not fractions_fit([0.3, 0.5, 0.7]) and fractions_fit([0.2, 0.3, 0.4])
    gib = 2**30
    plan = memory_plan([ServerPlan("smollm2", 0.27 * gib, 1 * gib, 3 * gib),
                        ServerPlan("qwen", 1.0 * gib, 1 * gib, 3 * gib)], total=24 * gib, reserve=4 * gib)
    assert plan["fits"] and plan["need"] == pytest.approx(9.27 * gib)


# --- setup

def test_without_setup_the_error_names_the_command(monkeypatch, tmp_path):
    from course.vllm import setup

    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))
    with pytest.raises(setup.VllmSetupError, match="course vllm setup"):
        setup.vllm_command("--version")
