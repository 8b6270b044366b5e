"""Hidden tests of lesson 04: the edges a quick solution gets wrong."""

import numpy as np
import pytest

from course.formats.memory import ModelShape
from course.models import model_path
from course.runtimes.knobs import Knobs
from course.runtimes.mlx_layout import pack_codes
from course.runtimes.ort_decode import TinyDecoderSession


def test_bytes_per_token_refuses_negative_positions(target):
    r = target.load("roofline")
    with pytest.raises(ValueError):
        r.bytes_per_token({"blk.0.attn_q.weight": (100, 10)}, 10.0, -1)
    with pytest.raises(ValueError):
        r.bytes_per_token({"blk.0.attn_q.weight": (100, 10)}, -1.0, 5)
    assert r.bytes_per_token({"output.weight": (100, 10)}) == 100  # no embedding table at all


def test_decode_reads_the_cache_shape_from_the_session(target):
    """Three KV heads of five: the heads come from the inputs, the head size from the caller, neither guessed."""
    session = TinyDecoderSession(seed=7, kv_heads=3, head_size=5, layers=3)
    assert target.load("ort_loop").greedy_decode(session, [4, 2], 6, 5) == session.greedy_without_cache([4, 2], 6)


def test_decode_edges(target):
    decode = target.load("ort_loop").greedy_decode
    session = TinyDecoderSession(seed=3)
    assert decode(session, [1, 2], 0, 4) == [] and session.calls == 0
    with pytest.raises(ValueError):
        decode(session, [], 4, 4)


def test_dequantize_refuses_what_does_not_fit(target):
    dequantize = target.load("affine").dequantize_affine
    codes = pack_codes(np.zeros((1, 32), dtype=np.int64), 4)
    one = np.ones((1, 1), dtype=np.float16)
    with pytest.raises(ValueError):
        dequantize(codes, one, one, 3)
    with pytest.raises(ValueError):
        dequantize(codes, np.ones((1, 2), dtype=np.float16), np.ones((1, 2), dtype=np.float16), 4)


def test_buffers_round_the_context_and_cap_the_batches(target):
    """n_ctx 300 is 512 cells; n_batch 2048 is capped at the 300 asked for, and n_ubatch with it."""
    shape = ModelShape.from_gguf(model_path("smollm2-135m"))
    got = target.load("buffers").predict_buffers(shape, Knobs(n_ctx=300, n_batch=2048, n_ubatch=2048))
    assert got["kv_cache"] == 30 * 3 * 512 * (64 * 2 + 64 * 2)
    assert got["compute"] == max(300 * shape.vocabulary * 4, (shape.heads + 1) * 300 * 512 * 4)
    with pytest.raises(ValueError):
        target.load("buffers").predict_buffers(shape, Knobs(type_k="q3_k"))


def test_choose_breaks_ties_and_names_both_budgets(target):
    choose = target.load("choose").choose_setup
    rows = [{"name": "a", "memory_mb": 50, "ttft_s": 1.0, "tokens_per_s": 10},
            {"name": "b", "memory_mb": 40, "ttft_s": 1.0, "tokens_per_s": 10},
            {"name": "c", "memory_mb": 40, "ttft_s": 0.5, "tokens_per_s": 10}]
    assert choose(rows, 100, 2.0)["name"] == "b"
    split = [{"name": "small", "memory_mb": 10, "ttft_s": 5.0, "tokens_per_s": 1},
             {"name": "quick", "memory_mb": 900, "ttft_s": 0.1, "tokens_per_s": 1}]
    with pytest.raises(LookupError) as err:
        choose(split, 100, 1.0)
    assert "memory" in str(err.value) and "first token" in str(err.value)
    with pytest.raises(LookupError, match="first token"):
        choose(split, 1000, 0.01)
