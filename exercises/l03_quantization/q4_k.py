"""Exercises l03.4 and l03.5: read llama.cpp's Q4_K blocks.

A Q4_K block holds 256 weights in 144 bytes:

====== ===== ====================================================
bytes  size  field
====== ===== ====================================================
0-1    2     ``d``, float16: the scale of the scales
2-3    2     ``dmin``, float16: the scale of the minimums
4-15   12    eight 6-bit scales and eight 6-bit minimums, packed
16-143 128   256 four-bit values
====== ===== ====================================================

The 256 weights form 8 sub-blocks of 32. Sub-block ``i`` has scale
``d * sc[i]`` and minimum ``dmin * m[i]``, and its weights are
``(d * sc[i]) * q - (dmin * m[i])``, computed in that order in float32.

**The 12 packed bytes** (``b[0]`` .. ``b[11]``):

* sub-blocks 0-3: ``sc[i] = b[i] & 63`` and ``m[i] = b[i + 4] & 63``;
* sub-blocks 4-7: the low 4 bits are in ``b[i + 4]`` (scale in the low
  nibble, minimum in the high nibble) and the top 2 bits are the spare top
  bits of ``b[i - 4]`` (scale) and ``b[i]`` (minimum):
  ``sc[i] = (b[i + 4] & 15) | ((b[i - 4] >> 6) << 4)``,
  ``m[i] = (b[i + 4] >> 4) | ((b[i] >> 6) << 4)``.

**The 128 value bytes** come in 4 groups of 32 bytes; group ``g`` gives
sub-block ``2g`` its values from the low nibbles and sub-block ``2g + 1``
from the high nibbles.
"""

import numpy as np

BLOCK, BLOCK_BYTES = 256, 144


def unpack_scales(packed) -> tuple:
    """``(scales, mins)``, two ``(n, 8)`` integer arrays, from ``(n, 12)`` packed ``uint8`` bytes."""
    # YOUR CODE HERE: exercise l03.4, Unpack Q4_K's six-bit scales
    raise NotImplementedError("exercise l03.4: read lessons/l03_quantization/index.md#k-quants-q4_k, then run `course check l03`")


def dequantize_q4_k(data) -> np.ndarray:
    """Q4_K bytes (``uint8``, last dimension a multiple of 144) to float32 weights.

    Raise ``ValueError`` for a dtype other than ``uint8`` or a last dimension
    that is not a multiple of 144.
    """
    # YOUR CODE HERE: exercise l03.5, Dequantize Q4_K
    raise NotImplementedError("exercise l03.5: read lessons/l03_quantization/index.md#k-quants-q4_k, then run `course check l03`")
