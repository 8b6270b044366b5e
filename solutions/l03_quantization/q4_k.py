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
    ### BEGIN SOLUTION
    b = np.asarray(packed, dtype=np.uint8).reshape(-1, 12).astype(np.int32)
    sc = np.zeros((len(b), 8), dtype=np.int32)
    m = np.zeros((len(b), 8), dtype=np.int32)
    for i in range(4):
        sc[:, i] = b[:, i] & 63
        m[:, i] = b[:, i + 4] & 63
    for i in range(4, 8):
        sc[:, i] = (b[:, i + 4] & 15) | ((b[:, i - 4] >> 6) << 4)
        m[:, i] = (b[:, i + 4] >> 4) | ((b[:, i] >> 6) << 4)
    return sc, m
    ### END SOLUTION


def dequantize_q4_k(data) -> np.ndarray:
    """Q4_K bytes (``uint8``, last dimension a multiple of 144) to float32 weights.

    Raise ``ValueError`` for a dtype other than ``uint8`` or a last dimension
    that is not a multiple of 144.
    """
    ### BEGIN SOLUTION
    data = np.asarray(data)
    if data.dtype != np.uint8:
        raise ValueError(f"Q4_K data is bytes: pass a uint8 array, not {data.dtype}")
    if data.ndim == 0 or data.shape[-1] % BLOCK_BYTES:
        raise ValueError(f"the last dimension must be a multiple of {BLOCK_BYTES} bytes; got shape {data.shape}")
    blocks = np.ascontiguousarray(data).reshape(-1, BLOCK_BYTES)
    n = len(blocks)
    d = blocks[:, 0:2].copy().view("<f2").astype(np.float32)
    dmin = blocks[:, 2:4].copy().view("<f2").astype(np.float32)
    sc, m = unpack_scales(blocks[:, 4:16])
    groups = blocks[:, 16:].reshape(n, 4, 32)
    q = np.empty((n, 8, 32), dtype=np.float32)
    q[:, 0::2] = groups & 15
    q[:, 1::2] = groups >> 4
    scale = (d * sc.astype(np.float32))[:, :, None]
    offset = (dmin * m.astype(np.float32))[:, :, None]
    with np.errstate(invalid="ignore", over="ignore"):
        out = scale * q - offset
    return out.reshape(*data.shape[:-1], data.shape[-1] // BLOCK_BYTES * BLOCK)
    ### END SOLUTION
