"""Exercise l03.1: Q8_0, the simplest block quantization, bit-exact with llama.cpp.

Q8_0 cuts a row of weights into blocks of 32. For each block:

1. ``d = max(|x|) / 127``, computed in float32;
2. each weight becomes ``q = round(x / d)``, an int8 from -127 to 127, where
   ``round`` sends halves away from zero (as C's ``roundf``; NumPy's
   ``np.round`` sends 2.5 to 2, which is not the same). Multiply by
   ``1 / d`` rather than dividing by ``d``: llama.cpp does, and the last bit
   of the result depends on it. A block of zeros has ``d = 0``: use 0 for
   ``1 / d`` there;
3. the block is stored as 34 bytes: ``d`` as a little-endian float16, then
   the 32 int8 values.

Dequantizing is ``x' = q * d`` with ``d`` read back from its float16.

Work on all blocks at once with NumPy: ``x.reshape(-1, 32)`` gives one block
per row. Both functions keep the leading dimensions: a ``(rows, 64)`` float
array quantizes to ``(rows, 68)`` bytes and back.
"""

import numpy as np

BLOCK, BLOCK_BYTES = 32, 34


def quantize_q8_0(x) -> np.ndarray:
    """Quantize float weights (last dimension a multiple of 32) to Q8_0 bytes (``uint8``).

    Raise ``ValueError`` for a non-float dtype, a last dimension that is not a
    multiple of 32, or NaN or infinite values.
    """
    # YOUR CODE HERE: exercise l03.1, Q8_0 round trip, bit-exact
    raise NotImplementedError("exercise l03.1: read lessons/l03_quantization/index.md#q8_0-one-scale-per-block, then run `course check l03`")


def dequantize_q8_0(data) -> np.ndarray:
    """Q8_0 bytes (``uint8``, last dimension a multiple of 34) back to float32 weights.

    Raise ``ValueError`` for a dtype other than ``uint8`` or a last dimension
    that is not a multiple of 34.
    """
    # YOUR CODE HERE: exercise l03.1, Q8_0 round trip, bit-exact
    raise NotImplementedError("exercise l03.1: read lessons/l03_quantization/index.md#q8_0-one-scale-per-block, then run `course check l03`")
