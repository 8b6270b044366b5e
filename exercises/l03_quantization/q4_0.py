"""Exercise l03.2: Q4_0, four bits per weight and one scale per block.

Q4_0 cuts a row into blocks of 32 weights. For each block:

1. find ``m``, the weight with the largest magnitude, *keeping its sign*
   (the first one if two tie); the scale is ``d = m / -8`` in float32, so
   that ``m`` itself maps to level 0 and the other side reaches 15;
2. each weight becomes ``q = trunc(x * (1/d) + 8.5)``, clipped to at most 15
   (with ``1/d`` taken as 0 when ``d`` is 0), computed in float32;
3. the block is stored as 18 bytes: ``d`` as a little-endian float16, then 16
   bytes of 4-bit values. Byte ``j`` holds weight ``j`` in its low nibble and
   weight ``j + 16`` in its high nibble.

Dequantizing is ``x' = d * (q - 8)``. Keep the leading dimensions, as in Q8_0.
"""

import numpy as np

BLOCK, BLOCK_BYTES = 32, 18


def quantize_q4_0(x) -> np.ndarray:
    """Quantize float weights (last dimension a multiple of 32) to Q4_0 bytes (``uint8``).

    Raise ``ValueError`` for a non-float dtype, a last dimension that is not a
    multiple of 32, or NaN or infinite values.
    """
    # YOUR CODE HERE: exercise l03.2, Q4_0 round trip, bit-exact
    raise NotImplementedError("exercise l03.2: read lessons/l03_quantization/index.md#q4_0-sixteen-levels-and-a-nibble-order, then run `course check l03`")


def dequantize_q4_0(data) -> np.ndarray:
    """Q4_0 bytes (``uint8``, last dimension a multiple of 18) back to float32 weights.

    Raise ``ValueError`` for a dtype other than ``uint8`` or a last dimension
    that is not a multiple of 18.
    """
    # YOUR CODE HERE: exercise l03.2, Q4_0 round trip, bit-exact
    raise NotImplementedError("exercise l03.2: read lessons/l03_quantization/index.md#q4_0-sixteen-levels-and-a-nibble-order, then run `course check l03`")
