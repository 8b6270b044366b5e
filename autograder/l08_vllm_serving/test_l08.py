"""Autograder for lesson 08: vLLM serving, and the machinery behind it rebuilt small.

The allocator and the scheduler step are graded on their promises with
hypothesis, and the step also against the course's scheduler on random
workloads; the prefix hashes against the course's and on the prompt shape
real vLLM was measured on; the n-gram drafts on their rules and inside a
real speculative loop on SmolLM2; the histogram percentiles
against Prometheus' rule and raw observations. None of it needs vLLM
installed.
"""

import functools
import math
import random

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from course.vllm import paged as ref_paged
from course.vllm import speculative as ref_spec
from course.vllm.paged import OutOfBlocks
from course.vllm.scheduler import Request, SchedulerConfig, simulate


# --- l08.1 the block allocator --------------------------------------------------------------

def test_allocate_takes_whole_blocks_lowest_first_and_all_or_nothing(target):
    a = target.load("blocks").BlockAllocator(8, 16)
    assert a.allocate("x", 33) == [0, 1, 2] and a.free_blocks == 5
    assert a.allocate("y", 16) == [3]
    with pytest.raises(OutOfBlocks):
        a.allocate("z", 100)
    assert a.free_blocks == 4, "a failed allocation took blocks"
    with pytest.raises(ValueError):
        a.allocate("x", 1)


def test_append_opens_a_block_only_when_the_last_is_full(target):
    a = target.load("blocks").BlockAllocator(4, 4)
    a.allocate("x", 3)
    a.append("x")
    assert a.table("x") == [0] and a.free_blocks == 3
    a.append("x")
    assert a.table("x") == [0, 1] and a.free_blocks == 2


def test_fork_shares_and_the_first_write_copies(target):
    a = target.load("blocks").BlockAllocator(6, 4)
    a.allocate("parent", 6)  # blocks 0 (full) and 1 (half)
    a.fork("parent", "child")
    assert a.table("child") == [0, 1] and a.free_blocks == 4
    a.append("child")  # block 1 is shared and not full: the child writes into a copy
    assert a.table("child") == [0, 2] and a.table("parent") == [0, 1]
    a.append("parent")  # block 1 is the parent's alone now: no copy
    assert a.table("parent") == [0, 1] and a.free_blocks == 3
    a.free("parent")
    a.free("child")
    assert a.free_blocks == 6


ops = st.lists(st.tuples(st.sampled_from(["allocate", "append", "fork", "free"]), st.integers(0, 5),
                         st.integers(0, 5), st.integers(0, 40)), max_size=40)


@given(st.integers(1, 12), st.sampled_from([1, 2, 4, 16]), ops)
def test_allocator_keeps_its_promises(target, num_blocks, block_size, program):
    """Never over capacity, no block lost or counted twice, every table exactly as long as it must be."""
    a = target.load("blocks").BlockAllocator(num_blocks, block_size)
    lengths: dict[str, int] = {}
    for op, i, j, n in program:
        seq, other = f"s{i}", f"s{j}"
        try:
            if op == "allocate" and seq not in lengths:
                a.allocate(seq, n)
                lengths[seq] = n
            elif op == "append" and seq in lengths:
                a.append(seq)
                lengths[seq] += 1
            elif op == "fork" and seq in lengths and other not in lengths:
                a.fork(seq, other)
                lengths[other] = lengths[seq]
            elif op == "free" and seq in lengths:
                a.free(seq)
                del lengths[seq]
        except OutOfBlocks:
            pass
        held = [b for s in lengths for b in a.table(s)]
        assert all(0 <= b < num_blocks for b in held)
        assert a.free_blocks == num_blocks - len(set(held)) >= 0, "free blocks do not match the tables"
        for s, length in lengths.items():
            assert len(a.table(s)) == -(-length // block_size), f"{s} holds {length} positions"
        shared_partial = [b for s in lengths for b in a.table(s)[-1:]
                          if lengths[s] % block_size and held.count(b) > 1
                          and any(a.table(t)[-1:] == [b] and lengths[t] != lengths[s] for t in lengths)]
        assert not shared_partial, "two sequences of different lengths write into one block"


# --- l08.2 prefix caching ------------------------------------------------------------------

@given(st.lists(st.integers(0, 50_000), max_size=80), st.sampled_from([1, 4, 16]))
def test_hashes_are_the_chained_block_hashes(target, tokens, block_size):
    assert target.load("prefix").block_hashes(tokens, block_size) == ref_paged.block_hashes(tokens, block_size)


@given(st.lists(st.integers(0, 9), min_size=32, max_size=64), st.integers(0, 63), st.integers(10, 19))
def test_a_changed_token_changes_its_block_and_every_later_hash(target, tokens, where, new):
    hashes = target.load("prefix").block_hashes
    where %= len(tokens)
    changed = list(tokens)
    changed[where] = new
    a, b = hashes(tokens, 8), hashes(changed, 8)
    first = where // 8
    assert a[:first] == b[:first]
    assert all(x != y for x, y in zip(a[first:], b[first:]))


def test_reusable_tokens_for_a_shared_system_prompt(target):
    """The shape measured on real vLLM: a second request sharing a 900-token prefix reused 896 positions."""
    prefix = target.load("prefix")
    system = [random.Random(1).randrange(49152) for _ in range(900)]
    first = system + [1, 2, 3]
    cached = set(prefix.block_hashes(first, 16))
    assert prefix.reusable_tokens(system + [7, 8, 9, 10], cached, 16) == 896
    assert prefix.reusable_tokens([5] + system, cached, 16) == 0


# --- l08.3 one scheduler step ----------------------------------------------------------------

def drive(module, requests, *, num_blocks, block_size, max_num_seqs, max_num_batched_tokens, max_steps=20_000):
    """Run whole requests through the learner's step: (steps, preemptions)."""
    step_fn = module.schedule_step
    waiting = [module.Req(r.id, len(r.prompt)) for r in requests]
    left = {r.id: r.max_tokens for r in requests}
    running, free, steps, preempted = [], num_blocks, 0, 0
    while running or waiting:
        assert steps < max_steps, "the step never finishes the workload"
        step = step_fn(running, waiting, free, block_size=block_size, max_num_seqs=max_num_seqs,
                       max_num_batched_tokens=max_num_batched_tokens)
        free, steps, preempted = step.free_blocks, steps + 1, preempted + len(step.preempted)
        for req in list(running):
            req.computed += step.scheduled.get(req.id, 0)
            if step.scheduled.get(req.id) and req.computed == req.num_tokens:
                left[req.id] -= 1
                if left[req.id] == 0:
                    running.remove(req)
                    free += req.blocks
                else:
                    req.num_tokens += 1
    return steps, preempted


@given(st.lists(st.tuples(st.integers(1, 60), st.integers(1, 20)), min_size=1, max_size=10),
       st.integers(0, 30), st.sampled_from([4, 16]), st.integers(1, 6), st.integers(4, 64))
def test_step_runs_workloads_as_the_course_scheduler_does(target, shapes, spare, block_size, seqs, budget):
    """Same steps and preemptions as course.vllm.scheduler on random workloads (prefix caching off)."""
    requests = [Request(f"r{i}", [i * 1000 + t for t in range(p)], m) for i, (p, m) in enumerate(shapes)]
    need = max(-(-(len(r.prompt) + r.max_tokens) // block_size) for r in requests)
    blocks = need + spare
    want = simulate(requests, num_blocks=blocks, block_size=block_size, prefix_caching=False,
                    config=SchedulerConfig(max_num_seqs=seqs, max_num_batched_tokens=budget))
    got = drive(target.load("step"), requests, num_blocks=blocks, block_size=block_size, max_num_seqs=seqs,
                max_num_batched_tokens=budget)
    assert got == (want.steps, want.preemptions), f"(steps, preemptions) {got}, the course's {(want.steps, want.preemptions)}"


def test_step_preempts_the_last_and_admits_no_one_then(target):
    m = target.load("step")
    a, b = m.Req("a", 9, computed=8, blocks=2), m.Req("b", 5, computed=4, blocks=1)
    c = m.Req("c", 3)
    running, waiting = [a, b], [c]
    step = m.schedule_step(running, waiting, 0, block_size=4, max_num_seqs=8, max_num_batched_tokens=16)
    assert step.preempted == ["b"] and step.scheduled == {"a": 1} and step.admitted == []
    assert running == [a] and waiting == [b, c] and (b.blocks, b.computed) == (0, 0)
    assert a.blocks == 3 and step.free_blocks == 0


def test_step_chunks_a_long_prompt_and_respects_the_limits(target):
    m = target.load("step")
    running = [m.Req("a", 5, computed=4, blocks=1)]
    waiting = [m.Req("long", 100), m.Req("next", 3)]
    step = m.schedule_step(running, waiting, 100, block_size=8, max_num_seqs=2, max_num_batched_tokens=32)
    assert step.scheduled == {"a": 1, "long": 31} and step.admitted == ["long"]
    assert [r.id for r in waiting] == ["next"], "max_num_seqs is 2"
    assert waiting[0].blocks == 0 and running[1].blocks == 4 and step.free_blocks == 96


# --- l08.4 n-gram drafts ------------------------------------------------------------------------

@given(st.lists(st.integers(0, 6), max_size=40), st.integers(1, 6), st.integers(1, 4), st.integers(0, 3))
def test_drafts_follow_the_prompt_lookup_rule(target, tokens, k, min_n, extra):
    propose = target.load("speculate").propose_ngram
    max_n = min_n + extra
    assert propose(tokens, k, max_n, min_n) == ref_spec.propose_ngram(tokens, k, max_n=max_n, min_n=min_n)


@given(st.lists(st.integers(0, 4), max_size=8), st.data())
def test_verification_keeps_the_agreeing_prefix_and_the_models_token(target, draft, data):
    accept = target.load("speculate").accept_greedy
    choices = data.draw(st.lists(st.integers(0, 4), min_size=len(draft) + 1, max_size=len(draft) + 1))
    kept = accept(draft, choices)
    n = len(kept) - 1
    assert kept[:n] == draft[:n] == choices[:n] and kept[-1] == choices[n]
    assert n == len(draft) or draft[n] != choices[n]
    with pytest.raises(ValueError):
        accept(draft, choices + [0])


@functools.cache
def smollm2_all_logits():
    from course.backends.llama_loader import new_llama
    from course.models import model_path

    return new_llama(model_path("smollm2-135m"), n_ctx=1024, logits_all=True)


COPY_TASK = ("Copy this list exactly, one item per line:\napples, 12 boxes\npears, 7 boxes\nplums, 30 boxes\n"
             "cherries, 4 boxes\napples, 12 boxes\npears, 7 boxes\n")


def test_speculation_on_smollm2_keeps_the_models_choices(target):
    """The learner's drafts and verification inside a real speculative loop on SmolLM2: the same tokens as the
    course's (every kept token is the model's own greedy choice in its verification pass), in fewer passes than
    one-token-at-a-time decoding."""
    m = target.load("speculate")
    llm = smollm2_all_logits()
    prompt = llm.tokenize(COPY_TASK.encode(), add_bos=False, special=False)
    plain = ref_spec.greedy_generate(llm, prompt, 40)
    reference = ref_spec.speculative_generate(llm, prompt, 40)
    fast = ref_spec.speculative_generate(llm, prompt, 40, propose=lambda t, k, max_n, min_n: m.propose_ngram(
        t, k, max_n, min_n), accept=m.accept_greedy)
    assert fast.tokens == reference.tokens and len(fast.tokens) == 40
    assert fast.passes == reference.passes < plain.passes and fast.accepted > 0


# --- l08.5 percentiles from a histogram ---------------------------------------------------------

INF = math.inf


def test_quantiles_as_prometheus_computes_them(target):
    q = target.load("quantiles").histogram_quantile
    b = [(0.1, 10), (0.5, 30), (1.0, 40), (INF, 40)]
    assert q(0.5, b) == pytest.approx(0.1 + 0.4 * (20 - 10) / 20)
    assert q(0.25, b) == pytest.approx(0.1)
    assert q(0.9, b) == pytest.approx(0.5 + 0.5 * (36 - 30) / 10)
    assert q(0.1, b) == pytest.approx(0.04)  # the first bucket starts at 0
    assert q(0.99, [(1.0, 1), (INF, 100)]) == 1.0  # in the +Inf bucket: the largest finite bound
    assert math.isnan(q(0.5, [(1.0, 0), (INF, 0)]))
    for bad in ((1.5, b), (0.5, [(1.0, 3)])):
        with pytest.raises(ValueError):
            q(*bad)


@given(st.lists(st.floats(0.001, 9.0), min_size=1, max_size=200), st.floats(0.01, 0.99))
def test_a_quantile_lies_in_the_bucket_of_the_true_one(target, observations, qq):
    q = target.load("quantiles").histogram_quantile
    bounds = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, INF]
    buckets = [(le, sum(1 for x in observations if x <= le)) for le in bounds]
    got = q(qq, buckets)
    rank = math.ceil(qq * len(observations))
    truth = sorted(observations)[max(rank - 1, 0)]
    upper = next(le for le in bounds if truth <= le)
    lower = max([0.0] + [le for le in bounds if le < upper])
    assert lower - 1e-9 <= got <= upper + 1e-9, (got, truth, lower, upper)
