"""Exercise l03.3: what a quantization level costs in bits, and what it loses.

*Bits per weight* counts everything a block stores: Q4_0 keeps 32 four-bit
values and one 16-bit scale in 18 bytes, so each weight costs
``8 * 18 / 32 = 4.5`` bits, not 4.

Three numbers describe what a round trip (quantize, then dequantize) lost:

* the root-mean-square error, ``sqrt(mean((x - x')**2))``;
* the largest absolute error, ``max(|x - x'|)``;
* the signal-to-noise ratio in decibels, ``10 * log10(sum(x**2) / sum((x - x')**2))``:
  each extra bit of a uniform quantizer buys about 6 dB. When nothing was
  lost the ratio is ``inf``; when the signal is all zeros but the copy is
  not, it is ``-inf``.

Compute in float64 so that the metrics do not add rounding of their own.
"""

import math

import numpy as np

# type -> (weights per block, bytes per block)
BLOCKS = {
    "F32": (1, 4), "F16": (1, 2), "Q4_0": (32, 18), "Q4_1": (32, 20), "Q5_0": (32, 22), "Q5_1": (32, 24),
    "Q8_0": (32, 34), "Q2_K": (256, 84), "Q3_K": (256, 110), "Q4_K": (256, 144), "Q5_K": (256, 176),
    "Q6_K": (256, 210),
}


def bits_per_weight(type_name: str) -> float:
    """Bits each weight costs in ``type_name``, scales included (``ValueError`` for an unknown type)."""
    # YOUR CODE HERE: exercise l03.3, Bits per weight and what a round trip loses
    raise NotImplementedError("exercise l03.3: read lessons/l03_quantization/index.md#what-a-level-costs-and-what-it-loses, then run `course check l03`")


def error_metrics(original, restored) -> dict:
    """``{"rmse": ..., "max_abs_error": ..., "snr_db": ...}`` of a round trip.

    Raise ``ValueError`` when the two arrays hold different numbers of values.
    """
    # YOUR CODE HERE: exercise l03.3, Bits per weight and what a round trip loses
    raise NotImplementedError("exercise l03.3: read lessons/l03_quantization/index.md#what-a-level-costs-and-what-it-loses, then run `course check l03`")
