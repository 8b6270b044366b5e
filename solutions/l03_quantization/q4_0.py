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
    ### BEGIN SOLUTION
    x = np.asarray(x)
    if x.dtype.kind != "f":
        raise ValueError(f"Q4_0 quantizes floats; got dtype {x.dtype}")
    if x.ndim == 0 or x.shape[-1] % BLOCK:
        raise ValueError(f"the last dimension must be a multiple of {BLOCK}; got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("cannot quantize NaN or infinite values")
    blocks = x.astype(np.float32).reshape(-1, BLOCK)
    idx = np.abs(blocks).argmax(axis=1)
    m = blocks[np.arange(len(blocks)), idx].reshape(-1, 1)
    d = m / np.float32(-8)
    inv = np.where(d == 0, np.float32(0), np.float32(1) / np.where(d == 0, np.float32(1), d))
    q = np.minimum(np.trunc(blocks * inv + np.float32(8.5)), 15).astype(np.uint8)
    packed = q[:, :16] | (q[:, 16:] << 4)
    out = np.concatenate([d.astype("<f2").view(np.uint8), packed], axis=1)
    return out.reshape(*x.shape[:-1], x.shape[-1] // BLOCK * BLOCK_BYTES)
    ### END SOLUTION


def dequantize_q4_0(data) -> np.ndarray:
    """Q4_0 bytes (``uint8``, last dimension a multiple of 18) back to float32 weights.

    Raise ``ValueError`` for a dtype other than ``uint8`` or a last dimension
    that is not a multiple of 18.
    """
    ### BEGIN SOLUTION
    data = np.asarray(data)
    if data.dtype != np.uint8:
        raise ValueError(f"Q4_0 data is bytes: pass a uint8 array, not {data.dtype}")
    if data.ndim == 0 or data.shape[-1] % BLOCK_BYTES:
        raise ValueError(f"the last dimension must be a multiple of {BLOCK_BYTES} bytes; got shape {data.shape}")
    blocks = np.ascontiguousarray(data).reshape(-1, BLOCK_BYTES)
    d = blocks[:, :2].copy().view("<f2").astype(np.float32)
    packed = blocks[:, 2:]
    q = np.concatenate([packed & 0x0F, packed >> 4], axis=1).astype(np.float32)
    return (d * (q - np.float32(8))).reshape(*data.shape[:-1], data.shape[-1] // BLOCK_BYTES * BLOCK)
    ### END SOLUTION
