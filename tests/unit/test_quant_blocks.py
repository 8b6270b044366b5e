"""course.quant.blocks is bit-exact with gguf.quants on random, constant, zero and extreme blocks."""

import numpy as np
import pytest
from gguf import GGMLQuantizationType as T
from gguf import quants
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from course.formats import read_gguf
from course.models import model_path
from course.quant import blocks as B

LEGACY = ["Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1"]

# values a weight tensor can hold, from subnormal-small to large enough to test the f16 scale
finite = st.floats(min_value=-2e5, max_value=2e5, allow_nan=False, allow_infinity=False, width=32)


@st.composite
def weight_rows(draw, block=32):
    """Float32 arrays with a last dimension that is a multiple of ``block``: random, constant or zero blocks."""
    rows = draw(st.integers(1, 3))
    blocks = draw(st.integers(1, 4))
    kind = draw(st.sampled_from(["random", "constant", "zeros", "scaled", "ties"]))
    shape = (rows, blocks * block)
    if kind == "random":
        return draw(hnp.arrays(np.float32, shape, elements=finite))
    if kind == "constant":
        return np.full(shape, draw(finite), dtype=np.float32)
    if kind == "zeros":
        return np.zeros(shape, dtype=np.float32)
    if kind == "ties":  # +a and -a both present: which extreme sets the sign of the scale
        a = np.float32(draw(st.sampled_from([1e-3, 0.5, 1.0, 7.25, 1e3])))
        x = draw(hnp.arrays(np.float32, shape, elements=st.floats(-float(a), float(a), width=32)))
        x[..., 0], x[..., 1] = -a, a
        return x
    exponent = draw(st.integers(-30, 4))  # tiny to large magnitudes
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return (rng.standard_normal(shape) * 10.0 ** exponent).astype(np.float32)


@pytest.mark.parametrize("name", LEGACY)
@settings(max_examples=150, deadline=None)
@given(x=weight_rows())
def test_quantize_is_bit_exact_with_gguf(name, x):
    with np.errstate(all="ignore"):
        ref = quants.quantize(x, T[name])
    if not np.isfinite(B.dequantize(ref, name)).all():  # a scale or minimum past the f16 range
        with pytest.raises(B.QuantizationError, match="16-bit float"):
            B.quantize(x, name)
        return
    try:
        ours = B.quantize(x, name)
    except B.QuantizationError as exc:  # only for blocks of subnormal-small weights, where C is undefined
        assert "1e-37" in str(exc)
        tiny = np.abs(x[x != 0])
        assert tiny.size and tiny.min() < 1e-36
        return
    assert ours.dtype == np.uint8 and ours.shape == ref.shape
    assert np.array_equal(ours, ref)
    assert np.array_equal(B.dequantize(ours, name), quants.dequantize(ref, T[name]))


@pytest.mark.parametrize("name", ["Q4_K", "Q6_K", *LEGACY])
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_dequantize_random_bytes_is_bit_exact_with_gguf(name, data):
    block, size = B.BLOCK_TYPES[name]
    n = data.draw(st.integers(1, 3))
    raw = data.draw(hnp.arrays(np.uint8, (2, n * size)))
    with np.errstate(all="ignore"):  # random f16 scales may be inf or NaN: both sides must agree on them too
        ours, ref = B.dequantize(raw, name), quants.dequantize(raw, T[name])
    assert ours.dtype == np.float32 and ours.shape == (2, n * block)
    assert np.array_equal(ours, ref, equal_nan=True)


@pytest.mark.parametrize("alias,tensor", [("qwen2.5-coder-0.5b", "blk.0.ffn_down.weight"),
                                          ("qwen2.5-coder-0.5b", "blk.1.ffn_down.weight"),
                                          ("smollm2-135m", "blk.0.attn_q.weight")])
def test_dequantize_real_tensors_like_gguf(alias, tensor):
    g = read_gguf(model_path(alias))
    t = g.tensor(tensor)
    raw = np.asarray(g.tensor_data(t)[:64])  # 64 rows is enough and quick
    ref = quants.dequantize(raw, T[t.type_name])
    assert np.array_equal(B.dequantize(raw, t.type_name), ref)
    assert t.type_name in {"Q4_K", "Q6_K", "Q4_1"}


def test_round_half_away_from_zero_like_c():
    v = np.array([0.5, 1.5, 2.5, -0.5, -2.5, 0.49999997, -0.49999997, 126.5], dtype=np.float32)
    assert B._round_half_away(v).tolist() == [1, 2, 3, -1, -3, 0, -0, 127]


def test_bits_per_weight():
    assert B.bits_per_weight("Q4_0") == 4.5
    assert B.bits_per_weight("q8_0") == 8.5
    assert B.bits_per_weight("Q4_K") == 4.5
    assert B.bits_per_weight("Q6_K") == 6.5625
    assert B.bits_per_weight("Q2_K") == 2.625


def test_error_shrinks_with_bits():
    x = np.random.default_rng(1).standard_normal((16, 1024)).astype(np.float32)
    rmse = {n: B.round_trip(x, n)["rmse"] for n in LEGACY}
    assert rmse["Q8_0"] < rmse["Q5_1"] < rmse["Q4_1"]
    assert rmse["Q5_0"] < rmse["Q4_0"]
    snr = B.round_trip(x, "Q8_0")["snr_db"]
    assert 35 < snr < 50  # 8 bits is about 6 dB per bit, less the crest of a Gaussian block


@pytest.mark.parametrize("bad,match", [
    (np.zeros(31, np.float32), "multiple of 32"),
    (np.arange(32), "floating-point"),
    (np.array([np.nan] + [0.0] * 31, np.float32), "NaN or infinite.*index 0"),
    (np.array([1.0] * 31 + [np.inf], np.float32), "index 31"),
    (np.full(32, 1e7, np.float32), "16-bit float"),
    (np.float32(1.0), "scalar"),
])
@pytest.mark.parametrize("name", LEGACY)
def test_bad_weights_get_clear_errors(name, bad, match):
    with pytest.raises(B.QuantizationError, match=match):
        B.quantize(bad, name)


def test_bad_bytes_get_clear_errors():
    with pytest.raises(B.QuantizationError, match="uint8"):
        B.dequantize(np.zeros(34, np.int32), "Q8_0")
    with pytest.raises(B.QuantizationError, match="34 bytes"):
        B.dequantize(np.zeros(33, np.uint8), "Q8_0")
    with pytest.raises(B.QuantizationError, match="unknown type"):
        B.quantize(np.zeros(32, np.float32), "Q3_X")
    with pytest.raises(B.QuantizationError, match="llama.cpp's quantizer"):
        B.quantize(np.zeros(256, np.float32), "Q4_K")
    with pytest.raises(B.QuantizationError, match="same tensor"):
        B.error_metrics(np.zeros(3), np.zeros(4))


def test_subnormal_blocks_are_refused_where_c_is_undefined():
    """Q5_1's scale of a block holding one subnormal weight is itself subnormal: 1 / d overflows."""
    x = np.array([3.6e-44] + [0.0] * 31, np.float32)
    with pytest.raises(B.QuantizationError, match="1e-37"):
        B.quantize(x, "Q5_1")
    assert not B.quantize(x, "Q8_0").any()  # 3.6e-44 / 127 rounds to a zero scale: a block of zeros
