"""Autograder for lesson 00, exercise l00.5: measuring an agent's speed."""

import pytest

from course.backends import FakeClock, Reply, ScriptedBackend


def test_measure_with_fake_clock(target):
    """0.5 s to the first of 5 tokens, then 0.1 s each: ttft 0.5, total 0.9, 10 tokens/s."""
    clock = FakeClock()
    fake = ScriptedBackend([Reply("one two three four five", first_token_delay=0.5, token_delay=0.1)], clock=clock)
    m = target.load("measure").measure(fake, [{"role": "user", "content": "count"}])
    assert m.text == "one two three four five"
    assert m.tokens == 5
    assert m.ttft_s == pytest.approx(0.5)
    assert m.total_s == pytest.approx(0.9)
    assert m.tokens_per_s == pytest.approx(10.0)


def test_measure_empty_reply(target):
    """A reply with no text has no time to first token and no rate."""
    fake = ScriptedBackend([Reply("", first_token_delay=0.2)], clock=FakeClock())
    m = target.load("measure").measure(fake, [{"role": "user", "content": "?"}])
    assert m.text == "" and m.ttft_s is None and m.tokens_per_s is None


def test_measure_real_model(target, smollm2):
    """On real SmolLM2: ttft > 0, ttft <= total, the token count matches the backend's usage, rate > 0."""
    m = target.load("measure").measure(smollm2, [{"role": "user", "content": "Name three colours."}], max_tokens=24)
    assert m.text and m.tokens > 1
    assert 0 < m.ttft_s <= m.total_s
    assert m.tokens_per_s and m.tokens_per_s > 0
    again = smollm2.chat([{"role": "user", "content": "Name three colours."}], max_tokens=24)
    assert m.tokens == again.usage.completion_tokens, "temperature 0: the same prompt gives the same token count"
