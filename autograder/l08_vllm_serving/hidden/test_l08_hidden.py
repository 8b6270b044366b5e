"""Hidden tests of lesson 08: the edges a quick solution gets wrong."""

import math

import pytest

from course.vllm.paged import OutOfBlocks


def test_free_gives_every_block_back_once(target):
    a = target.load("blocks").BlockAllocator(3, 2)
    a.allocate("x", 4)
    a.fork("x", "y")
    a.free("x")
    assert a.free_blocks == 1, "the blocks are still y's"
    a.free("y")
    assert a.free_blocks == 3
    with pytest.raises(KeyError):
        a.free("y")
    a.allocate("z", 6)
    with pytest.raises(OutOfBlocks):
        a.append("z")


def test_a_prompt_cached_whole_computes_its_last_block(target):
    prefix = target.load("prefix")
    tokens = list(range(64))
    cached = set(prefix.block_hashes(tokens, 16))
    assert prefix.reusable_tokens(tokens, cached, 16) == 48
    assert prefix.reusable_tokens([], cached, 16) == 0
    assert prefix.block_hashes(list(range(15)), 16) == []


def test_step_goes_on_with_the_next_when_a_request_preempts_itself(target):
    m = target.load("step")
    a, b = m.Req("a", 4, computed=3, blocks=1), m.Req("b", 9, computed=8, blocks=2)
    running = [a, b]
    step = m.schedule_step(running, [], 0, block_size=4, max_num_seqs=4, max_num_batched_tokens=8)
    assert step.preempted == ["b"] and step.scheduled == {"a": 1} and running == [a]


def test_drafts_prefer_the_longest_and_latest_match(target):
    propose = target.load("speculate").propose_ngram
    tokens = [1, 2, 3, 9, 2, 3, 8, 7, 1, 2, 3]
    assert propose(tokens, 2, 3, 2) == [9, 2]  # (1, 2, 3) matches at 0; the 2-gram is not needed
    assert propose([5, 6, 5, 6, 7, 5, 6], 3, 4, 2) == [7, 5, 6]  # the latest (5, 6) before the tail
    assert propose([1, 2, 3], 2, 4, 2) == []


def test_quantile_edges(target):
    q = target.load("quantiles").histogram_quantile
    assert q(0.0, [(1.0, 4), (math.inf, 4)]) == 0.0
    assert q(1.0, [(1.0, 4), (2.0, 8), (math.inf, 8)]) == 2.0
