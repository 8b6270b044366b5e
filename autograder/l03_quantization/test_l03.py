"""Autograder for lesson 03: quantization.

The oracle is ``gguf.quants``, the quantizer of llama.cpp's own Python tools,
bit for bit; and ``course.quant.blocks`` for the metrics. Weights come from
hypothesis: random shapes and values, blocks of zeros, constant blocks, ties
between a block's extremes, tiny and huge magnitudes, and real tensors from
the shipped models.
"""

import math

import numpy as np
import pytest
from gguf import GGMLQuantizationType as T
from gguf import quants
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from course.formats import read_gguf
from course.models import model_path
from course.quant import blocks as ref

# magnitudes whose scales stay inside float16 (the reference refuses larger ones); weights below
# 1e-30 become 0, because for blocks of subnormal-small weights llama.cpp's own result is undefined
def flush(v: float) -> float:
    return 0.0 if abs(v) < 1e-30 else v


finite = st.floats(min_value=-6e4, max_value=6e4, allow_nan=False, allow_infinity=False, width=32).map(flush)


@st.composite
def weights(draw, block=32, max_blocks=4):
    """Float32 weights, last dimension a multiple of ``block``, in the shapes quantizers meet."""
    lead = draw(st.sampled_from([(), (1,), (2,), (3,), (2, 2)]))
    shape = (*lead, draw(st.integers(1, max_blocks)) * block)
    kind = draw(st.sampled_from(["random", "zeros", "constant", "ties", "scaled", "scaled"]))
    if kind == "random":
        return draw(hnp.arrays(np.float32, shape, elements=finite))
    if kind == "zeros":
        return np.zeros(shape, np.float32)
    if kind == "constant":
        return np.full(shape, draw(finite), np.float32)
    if kind == "ties":  # +a and -a in one block: the sign of the scale depends on which comes first
        a = float(draw(st.sampled_from([0.5, 1.0, 3.75, 100.0])))
        # flushed too: the blocks after the first hold no +-a, and a block of 1.1754944e-38s made the reference
        # quantizer itself raise (an audit found a correct submission losing 2 points to it)
        x = draw(hnp.arrays(np.float32, shape, elements=st.floats(-a, a, width=32).map(flush)))
        first, second = draw(st.permutations([-a, a]))
        x[..., 0], x[..., 5] = first, second
        return x
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scale = 10.0 ** draw(st.integers(-30, 3))
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def real_rows(alias, name, rows=16):
    """Rows of a real shipped tensor, dequantized to float32: what a quantizer meets in practice."""
    g = read_gguf(model_path(alias))
    t = g.tensor(name)
    return quants.dequantize(np.asarray(g.tensor_data(t)[:rows]), T[t.type_name])


BAD_WEIGHTS = [
    np.zeros(31, np.float32),                       # not a whole block
    np.zeros((2, 48), np.float32),
    np.arange(32),                                  # integers
    np.array([np.nan] + [0.0] * 31, np.float32),    # NaN
    np.array([1.0] * 31 + [-np.inf], np.float32),   # infinity
]


# --- l03.1 Q8_0 -----------------------------------------------------------------


@given(weights())
def test_q8_0_quantize_is_bit_exact(target, x):
    got = target.load("q8_0").quantize_q8_0(x)
    expected = quants.quantize(x, T.Q8_0)
    assert isinstance(got, np.ndarray) and got.dtype == np.uint8 and got.shape == expected.shape
    assert np.array_equal(got, expected), f"first differing byte at {np.argwhere(got != expected)[0]}"


@given(weights())
def test_q8_0_dequantize_is_bit_exact(target, x):
    data = quants.quantize(x, T.Q8_0)
    got = target.load("q8_0").dequantize_q8_0(data)
    assert got.dtype == np.float32 and np.array_equal(got, quants.dequantize(data, T.Q8_0))


def test_q8_0_on_real_weights(target):
    x = real_rows("smollm2-135m", "blk.0.ffn_up.weight")
    q8 = target.load("q8_0")
    assert np.array_equal(q8.quantize_q8_0(x), quants.quantize(x, T.Q8_0))
    assert ref.error_metrics(x, q8.dequantize_q8_0(q8.quantize_q8_0(x)))["snr_db"] > 35


@pytest.mark.parametrize("bad", BAD_WEIGHTS, ids=["31", "48", "int", "nan", "inf"])
def test_q8_0_rejects_bad_input(target, bad):
    q8 = target.load("q8_0")
    with pytest.raises(ValueError):
        q8.quantize_q8_0(bad)
    with pytest.raises(ValueError):
        q8.dequantize_q8_0(np.zeros(33, np.uint8))
    with pytest.raises(ValueError):
        q8.dequantize_q8_0(np.zeros(34, np.int8))


# --- l03.2 Q4_0 -----------------------------------------------------------------


@given(weights())
def test_q4_0_quantize_is_bit_exact(target, x):
    got = target.load("q4_0").quantize_q4_0(x)
    expected = quants.quantize(x, T.Q4_0)
    assert isinstance(got, np.ndarray) and got.dtype == np.uint8 and got.shape == expected.shape
    assert np.array_equal(got, expected), f"first differing byte at {np.argwhere(got != expected)[0]}"


@given(st.integers(1, 8).flatmap(lambda n: hnp.arrays(np.uint8, (2, n * 18))))
def test_q4_0_dequantize_any_bytes(target, data):
    """Any bytes, whatever their scales (inf and NaN included), as gguf reads them."""
    with np.errstate(all="ignore"):
        got = target.load("q4_0").dequantize_q4_0(data)
        expected = quants.dequantize(data, T.Q4_0)
    assert got.dtype == np.float32 and np.array_equal(got, expected, equal_nan=True)


def test_q4_0_nibble_order(target):
    """Byte j of a block holds weight j low and weight j + 16 high."""
    x = np.concatenate([np.full(16, -8.0), np.full(16, 7.0)]).astype(np.float32)  # levels 0 and 15
    block = target.load("q4_0").quantize_q4_0(x)
    assert block[2:].tolist() == [0xF0] * 16


@pytest.mark.parametrize("bad", BAD_WEIGHTS, ids=["31", "48", "int", "nan", "inf"])
def test_q4_0_rejects_bad_input(target, bad):
    q4 = target.load("q4_0")
    with pytest.raises(ValueError):
        q4.quantize_q4_0(bad)
    with pytest.raises(ValueError):
        q4.dequantize_q4_0(np.zeros(17, np.uint8))
    with pytest.raises(ValueError):
        q4.dequantize_q4_0(np.zeros(18, np.float32))


# --- l03.3 bits per weight and error metrics -------------------------------------


@pytest.mark.parametrize("type_name", ["F32", "F16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K",
                                       "Q4_K", "Q5_K", "Q6_K"])
def test_bits_per_weight(target, type_name):
    assert target.load("metrics").bits_per_weight(type_name) == ref.bits_per_weight(type_name)


def test_bits_per_weight_rejects_unknown_types(target):
    with pytest.raises(ValueError):
        target.load("metrics").bits_per_weight("Q7_X")


@given(weights(max_blocks=3), st.sampled_from(["Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1"]))
def test_error_metrics_of_round_trips(target, x, type_name):
    restored = ref.dequantize(ref.quantize(x, type_name), type_name)
    got = target.load("metrics").error_metrics(x, restored)
    expected = ref.error_metrics(x, restored)
    assert set(got) == {"rmse", "max_abs_error", "snr_db"}
    for key, value in expected.items():
        if math.isinf(value):
            assert got[key] == value, key
        else:
            assert got[key] == pytest.approx(value, rel=1e-9, abs=1e-300), key


def test_error_metrics_edge_cases(target):
    m = target.load("metrics").error_metrics
    assert m([1.0, 2.0], [1.0, 2.0])["snr_db"] == math.inf
    assert m([0.0, 0.0], [0.0, 1.0])["snr_db"] == -math.inf
    got = m([3.0, -4.0], [0.0, 0.0])
    assert got["rmse"] == pytest.approx(math.sqrt(12.5)) and got["max_abs_error"] == 4.0
    assert got["snr_db"] == pytest.approx(0.0)
    with pytest.raises(ValueError):
        m([1.0, 2.0], [1.0])


# --- l03.4 and l03.5 Q4_K -----------------------------------------------------------


@given(hnp.arrays(np.uint8, st.tuples(st.integers(1, 6), st.just(12))))
def test_q4_k_scales_unpack_like_llama_cpp(target, packed):
    sc, m = target.load("q4_k").unpack_scales(packed)
    ref_sc, ref_m = ref.q4_k_scales(packed)
    assert np.array_equal(np.asarray(sc), ref_sc) and np.array_equal(np.asarray(m), ref_m)
    assert np.asarray(sc).shape == (len(packed), 8)


@given(st.integers(1, 3).flatmap(lambda n: hnp.arrays(np.uint8, (2, n * 144))))
def test_q4_k_dequantize_any_bytes(target, data):
    with np.errstate(all="ignore"):
        got = target.load("q4_k").dequantize_q4_k(data)
        expected = quants.dequantize(data, T.Q4_K)
    assert got.dtype == np.float32 and got.shape == expected.shape
    assert np.array_equal(got, expected, equal_nan=True)


@pytest.mark.parametrize("which", [0, 13, 26])
def test_q4_k_dequantize_real_tensors(target, which):
    """Gemma 3's Q4_K tensors (27 attention-output and feed-forward matrices), as llama.cpp's reader reads them."""
    g = read_gguf(model_path("gemma3-270m"))
    t = [t for t in g.tensors if t.type_name == "Q4_K"][which]
    raw = np.asarray(g.tensor_data(t)[:32])
    assert np.array_equal(target.load("q4_k").dequantize_q4_k(raw), quants.dequantize(raw, T.Q4_K))


def test_q4_k_rejects_bad_input(target):
    q4k = target.load("q4_k")
    with pytest.raises(ValueError):
        q4k.dequantize_q4_k(np.zeros(143, np.uint8))
    with pytest.raises(ValueError):
        q4k.dequantize_q4_k(np.zeros(144, np.int16))
