"""Lesson 04's library with no real runtime: the roofline, MLX's affine layout, the decode loop on the stand-in,
llama.cpp's knobs and the thread decision."""

import gguf
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from course.backends.llama_loader import idle_cores, threads_for
from course.formats.memory import MiB, ModelShape
from course.runtimes.knobs import Knobs, KnobError, check_knobs, effective_batches, knob_problem, predict_buffers
from course.runtimes.mlx_layout import dequantize_affine, gguf_to_affine, pack_codes
from course.runtimes.ort_decode import OnnxRuntimeError, TinyDecoderSession, empty_cache, greedy_decode
from course.runtimes.roofline import bytes_per_token, roofline_tokens_per_s, tensor_table

# --- the roofline


def test_tied_tables_are_read_whole_and_untied_ones_one_row():
    tied = {"token_embd.weight": (1000, 10), "blk.0.w": (500, 5)}
    assert bytes_per_token(tied) == 1500
    untied = {**tied, "output.weight": (800, 10)}
    assert bytes_per_token(untied) == 500 + 800 + 100
    assert bytes_per_token(untied, kv_bytes_per_position=2.5, position=4) == 1410
    with pytest.raises(ValueError):
        bytes_per_token(tied, position=-1)
    with pytest.raises(ValueError):
        roofline_tokens_per_s(0, 10)


def test_the_shipped_headers():
    """SmolLM2 ties its embeddings (every byte read), Qwen does not (its 94 MB table read one row a token)."""
    smol, qwen = tensor_table("smollm2-135m"), tensor_table("qwen2.5-coder-0.5b")
    assert "output.weight" not in smol and bytes_per_token(smol) == sum(n for n, _ in smol.values())
    n, rows = qwen["token_embd.weight"]
    assert rows == 151936 and n > 90e6
    assert bytes_per_token(qwen) == pytest.approx(sum(b for b, _ in qwen.values()) - n + n / rows)


# --- MLX's affine layout

@given(st.sampled_from([2, 4, 8]), st.integers(1, 3), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_pack_then_dequantize_gives_scale_times_code_plus_bias(bits, rows, groups, seed):
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 2**bits, (rows, 32 * groups))
    words = pack_codes(codes, bits)
    assert words.dtype == np.uint32 and words.shape == (rows, 32 * groups * bits // 32)
    ones, zeros = np.ones((rows, groups), np.float16), np.zeros((rows, groups), np.float16)
    assert np.array_equal(dequantize_affine(words, ones, zeros, bits), codes.astype(np.float32))


@given(st.sampled_from(["Q4_0", "Q4_1", "Q8_0"]), st.integers(0, 2**32 - 1))
def test_gguf_blocks_rewritten_dequantize_like_gguf(kind, seed):
    qtype = gguf.GGMLQuantizationType[kind]
    x = np.random.default_rng(seed).normal(0, 3, (2, 64)).astype(np.float32)
    raw = gguf.quants.quantize(x, qtype)
    w, s, b = gguf_to_affine(raw, kind, 64)
    np.testing.assert_allclose(dequantize_affine(w, s, b, 8 if kind == "Q8_0" else 4), gguf.quants.dequantize(raw, qtype),
                               rtol=1e-5, atol=1e-5)


def test_layout_errors_are_clear():
    with pytest.raises(ValueError, match="Q4_0, Q4_1 and Q8_0"):
        gguf_to_affine(np.zeros(84, np.uint8), "Q2_K", 256)
    with pytest.raises(ValueError, match="2, 4 or 8"):
        pack_codes(np.zeros((1, 32), int), 3)


# --- the decode loop on the stand-in

def test_the_stand_in_checks_its_inputs_as_onnx_runtime_does():
    s = TinyDecoderSession()
    feed = {"input_ids": np.array([[1, 2]], np.int64), "attention_mask": np.ones((1, 2), np.int64),
            **empty_cache(s, s.head_size)}
    logits, *_ = s.run(None, feed)
    assert logits.shape == (1, 2, s.vocab)
    with pytest.raises(OnnxRuntimeError, match="missing"):
        s.run(None, {k: v for k, v in feed.items() if k != "attention_mask"})
    with pytest.raises(OnnxRuntimeError, match="data type"):
        s.run(None, feed | {"input_ids": feed["input_ids"].astype(np.int32)})
    with pytest.raises(OnnxRuntimeError, match="attention_mask"):
        s.run(None, feed | {"attention_mask": np.ones((1, 3), np.int64)})
    assert s.calls == 1


@given(st.integers(0, 30), st.lists(st.integers(0, 49), min_size=1, max_size=8), st.integers(0, 10))
def test_the_loop_with_a_cache_gives_the_tokens_without_one(seed, prompt, n):
    s = TinyDecoderSession(seed=seed)
    assert greedy_decode(s, prompt, n, s.head_size) == s.greedy_without_cache(prompt, n)
    assert s.tokens_run == (len(prompt) + n - 1 if n else 0)


# --- llama.cpp's knobs

SMOL = ModelShape("smol", 1, 1, layers=30, heads=9, kv_heads=3, head_size=64, value_head_size=64, vocabulary=49152)


def test_knob_problems_are_found_before_loading():
    assert "flash_attn=True" in knob_problem(Knobs(type_v="q8_0"))
    assert knob_problem(Knobs(type_v="q8_0", flash_attn=True)) is None
    assert "cache type" in knob_problem(Knobs(type_k="q3_k"))
    with pytest.raises(KnobError):
        check_knobs(Knobs(n_threads=0))


def test_buffers_as_llama_cpp_reported_them_for_smollm2():
    """Figures from llama.cpp's log on SmolLM2 (lesson 04's page): the KV cache exactly, the compute buffer's bulk."""
    assert predict_buffers(SMOL, Knobs())["kv_cache"] / MiB == 45.0
    assert predict_buffers(SMOL, Knobs(type_k="q8_0"))["kv_cache"] / MiB == pytest.approx(34.45, abs=0.01)
    assert predict_buffers(SMOL, Knobs(n_ubatch=64))["compute"] / MiB == 12.0
    assert predict_buffers(SMOL, Knobs(n_ctx=8192))["compute"] / MiB == 160.0  # the scores beat the logits
    assert predict_buffers(SMOL, Knobs(n_ctx=8192, flash_attn=True))["compute"] / MiB == 96.0
    assert effective_batches(Knobs(n_ctx=300, n_batch=2048, n_ubatch=2048)) == (512, 300, 300)


# --- threads

def test_one_thread_per_idle_core(tmp_path):
    assert threads_for(2, 2.0) == 2 and threads_for(2, 1.1) == 1 and threads_for(2, 0.0) == 1
    assert threads_for(8, 5.6) == 6 and threads_for(2, None) == 2
    assert idle_cores(0.0, stat=tmp_path / "absent") is None
