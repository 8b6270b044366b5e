"""Autograder for lesson 04: edge runtimes side by side.

The roofline is graded on the headers of the three shipped models (read by
the ``gguf`` library) and on random tensor tables; the decode loop on the
course's NumPy stand-in for an ONNX model and, where ONNX Runtime and the
model's ONNX form are installed, on SmolLM2 against ONNX Runtime GenAI's own
greedy tokens (the ``onnx_decoder`` fixture); MLX's affine format against
``gguf``'s own quantizer and dequantizer; the buffer prediction against what
llama.cpp allocates; the choice under a budget on its promises.
"""

import gguf
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from course.formats.gguf_file import read_gguf
from course.formats.memory import KV_CACHE_TYPES, MiB, ModelShape, llama_cpp_report
from course.models import model_path
from course.runtimes import knobs as ref_knobs
from course.runtimes.mlx_layout import gguf_to_affine, pack_codes
from course.runtimes.ort_decode import TinyDecoderSession

SHIPPED = ["smollm2-135m", "qwen2.5-coder-0.5b", "gemma3-270m"]


# --- l04.1 the roofline ----------------------------------------------------------------

def header_table(alias):
    """{name: (n_bytes, rows)} from the file's header, as the course's reader (checked against gguf's) reads it."""
    return {t.name: (t.n_bytes, t.shape[-1]) for t in read_gguf(model_path(alias)).tensors}


@pytest.mark.parametrize("alias", SHIPPED)
def test_bytes_per_token_of_the_shipped_models(target, alias):
    """SmolLM2 and Gemma tie their embeddings (every byte is read); Qwen does not (one row of its table)."""
    table = header_table(alias)
    everything = sum(n for n, _ in table.values())
    got = target.load("roofline").bytes_per_token(table)
    if "output.weight" in table:
        n, rows = table["token_embd.weight"]
        assert got == pytest.approx(everything - n + n / rows), "an untied embedding table is read one row a token"
    else:
        assert got == pytest.approx(everything), "a tied embedding table is read whole by the output projection"


tensor = st.tuples(st.integers(1, 10**9), st.integers(1, 10**6))
names = st.sampled_from(["blk.0.attn_q.weight", "blk.0.ffn_up.weight", "output_norm.weight", "blk.1.attn_k.weight"])


@given(st.dictionaries(names, tensor, max_size=4), tensor, st.booleans(), st.floats(0, 1e6), st.integers(0, 10**5))
def test_bytes_per_token_on_random_tables(target, others, embedding, tied, kv, position):
    table = {**others, "token_embd.weight": embedding}
    if not tied:
        table["output.weight"] = (embedding[0] // 2 + 1, embedding[1])
    got = target.load("roofline").bytes_per_token(table, kv, position)
    n, rows = embedding
    weights = sum(b for b, _ in table.values()) - (0 if tied else n - n / rows)
    assert got == pytest.approx(weights + kv * position, rel=1e-9)


@given(st.floats(1e6, 1e12), st.floats(1e3, 1e10), st.floats(0.01, 2.0))
def test_roofline_and_fraction(target, bandwidth, per_token, share):
    r = target.load("roofline")
    ceiling = r.roofline_tokens_per_s(bandwidth, per_token)
    assert ceiling == pytest.approx(bandwidth / per_token)
    assert r.fraction_of_roofline(share * ceiling, bandwidth, per_token) == pytest.approx(share)
    for bad in ((0, per_token), (bandwidth, 0), (-bandwidth, per_token)):
        with pytest.raises(ValueError):
            r.roofline_tokens_per_s(*bad)


# --- l04.2 the decode loop on plain ONNX Runtime ---------------------------------------

@given(st.integers(0, 50), st.lists(st.integers(0, 49), min_size=1, max_size=12), st.integers(1, 16))
def test_decode_gives_the_cache_free_answer(target, seed, prompt, n):
    session = TinyDecoderSession(seed=seed)
    got = target.load("ort_loop").greedy_decode(session, prompt, n, session.head_size)
    assert got == session.greedy_without_cache(prompt, n)


def test_decode_runs_each_token_once(target):
    """The prompt once, then only the new token: the cache carries the rest (quadratic work otherwise)."""
    session = TinyDecoderSession(seed=1)
    prompt = [5, 6, 7, 8, 9]
    got = target.load("ort_loop").greedy_decode(session, prompt, 10, session.head_size)
    assert len(got) == 10
    assert session.calls == 10, f"{session.calls} runs for 10 tokens: one run per token"
    assert session.tokens_run == len(prompt) + 9, (
        f"{session.tokens_run} tokens run: the prompt once ({len(prompt)}), then one token per step (9)")


def test_decode_stops_before_an_end_token(target):
    session = TinyDecoderSession(seed=2)
    prompt = [1, 2, 3]
    full = session.greedy_without_cache(prompt, 12)
    eos = full[4]
    got = target.load("ort_loop").greedy_decode(session, prompt, 12, session.head_size, eos_ids=[eos])
    assert got == full[:full.index(eos)]


def test_decode_on_a_real_session(target, onnx_decoder):
    case = onnx_decoder
    got = target.load("ort_loop").greedy_decode(case.session, case.prompt_ids, case.max_new_tokens, case.head_size,
                                                 case.eos_ids)
    assert got == case.expected, f"{case.name}: first difference at token " \
        f"{next((i for i, (a, b) in enumerate(zip(got, case.expected)) if a != b), min(len(got), len(case.expected)))}"


# --- l04.3 MLX's affine format ---------------------------------------------------------

@given(st.sampled_from([2, 4, 8]), st.integers(1, 4), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_dequantize_unpacks_codes_in_order(target, bits, rows, groups, seed):
    rng = np.random.default_rng(seed)
    cols = 32 * groups
    codes = rng.integers(0, 2**bits, size=(rows, cols))
    scales = rng.normal(0, 1, (rows, groups)).astype(np.float16)
    biases = rng.normal(0, 1, (rows, groups)).astype(np.float16)
    got = target.load("affine").dequantize_affine(pack_codes(codes, bits), scales, biases, bits, 32)
    want = np.repeat(scales.astype(np.float32), 32, axis=1) * codes + np.repeat(biases.astype(np.float32), 32, axis=1)
    assert got.shape == (rows, cols) and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


@given(st.sampled_from(["Q4_0", "Q4_1", "Q8_0"]), st.integers(1, 3), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_dequantize_gives_what_gguf_gives(target, kind, rows, blocks, seed):
    """Random weights quantized by gguf, rewritten as MLX loads them, dequantized: gguf's own values."""
    qtype = gguf.GGMLQuantizationType[kind]
    x = np.random.default_rng(seed).normal(0, 1, (rows, 32 * blocks)).astype(np.float32)
    raw = gguf.quants.quantize(x, qtype)
    w, s, b = gguf_to_affine(raw, kind, 32 * blocks)
    got = target.load("affine").dequantize_affine(w, s, b, 8 if kind == "Q8_0" else 4, 32)
    np.testing.assert_allclose(got, gguf.quants.dequantize(raw, qtype), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["blk.0.attn_q.weight", "token_embd.weight"])
def test_dequantize_smollm2_tensors(target, name):
    """SmolLM2's Q4_1 attention weights and Q8_0 embedding table, as MLX holds them."""
    model = read_gguf(model_path("smollm2-135m"))
    t, raw = model.tensor(name), model.tensor_data(name)
    w, s, b = gguf_to_affine(raw, t.type_name, t.shape[0])
    got = target.load("affine").dequantize_affine(w, s, b, 8 if t.type_name == "Q8_0" else 4, 32)
    want = gguf.quants.dequantize(np.asarray(raw), gguf.GGMLQuantizationType[t.type_name]).reshape(got.shape)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


# --- l04.4 the buffers of a llama.cpp setting ------------------------------------------

shapes = st.builds(ModelShape, name=st.just("m"), parameters=st.just(1), tensor_bytes=st.just(1),
                   layers=st.integers(1, 64), heads=st.integers(1, 32), kv_heads=st.integers(1, 16),
                   head_size=st.sampled_from([32, 64, 128]), value_head_size=st.sampled_from([32, 64, 128]),
                   vocabulary=st.integers(1000, 300_000))
settings = st.builds(ref_knobs.Knobs, n_ctx=st.integers(1, 40_000), n_batch=st.integers(1, 4096),
                     n_ubatch=st.integers(1, 4096), flash_attn=st.booleans(),
                     type_k=st.sampled_from(sorted(KV_CACHE_TYPES)), type_v=st.sampled_from(sorted(KV_CACHE_TYPES)))


@given(shapes, settings)
def test_buffers_follow_the_rules(target, shape, knobs):
    predict = target.load("buffers").predict_buffers
    if ref_knobs.knob_problem(knobs):
        with pytest.raises(ValueError):
            predict(shape, knobs)
        return
    got, want = predict(shape, knobs), ref_knobs.predict_buffers(shape, knobs)
    assert got["kv_cache"] == pytest.approx(want["kv_cache"]) and got["compute"] == pytest.approx(want["compute"])


REAL_SETTINGS = [
    ref_knobs.Knobs(n_ctx=2048),
    ref_knobs.Knobs(n_ctx=8192, n_ubatch=64),
    ref_knobs.Knobs(n_ctx=8192),
    ref_knobs.Knobs(n_ctx=2048, flash_attn=True, type_k="q8_0", type_v="q8_0"),
]


@pytest.mark.real_model
@pytest.mark.parametrize("knobs", REAL_SETTINGS, ids=["default", "ctx8192-ubatch64", "ctx8192", "flash-q8_0"])
def test_buffers_match_llama_cpp(target, knobs):
    """What llama.cpp allocates for SmolLM2: the KV cache exactly, the compute buffer within a few MiB above."""
    path = model_path("smollm2-135m")
    got = target.load("buffers").predict_buffers(ModelShape.from_gguf(path), knobs)
    reported = llama_cpp_report(path, knobs.n_ctx, knobs.type_k, type_v=knobs.type_v, flash_attn=knobs.flash_attn,
                                n_batch=knobs.n_batch, n_ubatch=knobs.n_ubatch)
    assert got["kv_cache"] / MiB == pytest.approx(reported["kv_cache"], abs=0.01)
    compute = got["compute"] / MiB
    assert compute <= reported["compute"] <= compute * 1.08 + 4, (compute, reported["compute"])


def test_buffers_refuse_a_quantized_v_cache_without_flash_attention(target):
    shape = ModelShape.from_gguf(model_path("smollm2-135m"))
    predict = target.load("buffers").predict_buffers
    with pytest.raises(ValueError):
        predict(shape, ref_knobs.Knobs(type_v="q8_0"))
    assert predict(shape, ref_knobs.Knobs(type_k="q8_0"))["kv_cache"] < predict(shape, ref_knobs.Knobs())["kv_cache"]


# --- l04.5 choosing under a budget -----------------------------------------------------

MEASURED = [  # a table shaped like course bench runtimes' (figures of one run on a 2-core machine)
    {"name": "llama.cpp Q4_1", "memory_mb": 180, "ttft_s": 0.35, "tokens_per_s": 95},
    {"name": "onnxruntime-genai int4", "memory_mb": 260, "ttft_s": 0.12, "tokens_per_s": 170},
    {"name": "onnxruntime, Python loop", "memory_mb": 300, "ttft_s": 0.15, "tokens_per_s": 120},
    {"name": "mlx Q4_1", "memory_mb": 400, "ttft_s": 2.5, "tokens_per_s": 7},
]


def test_choose_on_a_measured_table(target):
    choose = target.load("choose").choose_setup
    assert choose(MEASURED, memory_mb=1000, ttft_s=10)["name"] == "onnxruntime-genai int4"
    assert choose(MEASURED, memory_mb=200, ttft_s=10)["name"] == "llama.cpp Q4_1"
    assert choose(MEASURED, memory_mb=1000, ttft_s=0.14)["name"] == "onnxruntime-genai int4"
    with pytest.raises(LookupError, match="memory"):
        choose(MEASURED, memory_mb=100, ttft_s=10)


row = st.fixed_dictionaries({"name": st.text("abcxyz", min_size=1, max_size=4), "memory_mb": st.integers(1, 20),
                             "ttft_s": st.integers(1, 20).map(lambda v: v / 10), "tokens_per_s": st.integers(1, 10)})


@given(st.lists(row, max_size=8), st.integers(0, 21), st.integers(0, 21).map(lambda v: v / 10))
def test_choose_keeps_its_promises(target, rows, memory, ttft):
    choose = target.load("choose").choose_setup
    rows = [dict(r, row=i) for i, r in enumerate(rows)]  # which row came back: by its place, not by identity
    fits = [r for r in rows if r["memory_mb"] <= memory and r["ttft_s"] <= ttft]
    if not fits:
        with pytest.raises(LookupError):
            choose(rows, memory, ttft)
        return
    got = choose(rows, memory, ttft)
    assert got in fits, "the chosen setup does not fit the budgets"
    assert got["tokens_per_s"] == max(r["tokens_per_s"] for r in fits), "a faster setup fits"
    fastest = [r for r in fits if r["tokens_per_s"] == got["tokens_per_s"]]
    assert got["memory_mb"] == min(r["memory_mb"] for r in fastest), "a setup as fast uses less memory"
    assert got == next(r for r in fastest if r["memory_mb"] == got["memory_mb"]), "not the first of equals"
