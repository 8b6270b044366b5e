"""Hidden tests of lesson 03: cases the public tests do not show."""

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import quants


def test_q8_0_rounds_halves_away_from_zero(target):
    """Weights that land exactly on .5 steps: 127 * 0.5 / 127 and friends."""
    x = np.array([127.0, 0.5, -0.5, 1.5, -2.5, 63.5, -63.5, 0.49999997] + [0.0] * 24, np.float32)
    assert np.array_equal(target.load("q8_0").quantize_q8_0(x), quants.quantize(x, T.Q8_0))


def test_q4_0_first_extreme_sets_the_sign(target):
    """When -a and a tie for the largest magnitude, the first one found is the extreme."""
    for first in (-2.0, 2.0):
        x = np.linspace(-1, 1, 32).astype(np.float32)
        x[3], x[20] = first, -first
        assert np.array_equal(target.load("q4_0").quantize_q4_0(x), quants.quantize(x, T.Q4_0))


def test_q4_k_keeps_leading_dimensions(target):
    data = np.random.default_rng(7).integers(0, 256, (2, 3, 144), dtype=np.uint8)
    data[..., 0:4] = np.array([0, 0x3C, 0, 0x38], np.uint8)  # d = 1.0, dmin = 0.5: finite scales
    got = target.load("q4_k").dequantize_q4_k(data)
    assert got.shape == (2, 3, 256)
    assert np.array_equal(got, quants.dequantize(data, T.Q4_K))
