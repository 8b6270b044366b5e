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
    ### BEGIN SOLUTION
    x = np.asarray(x)
    if x.dtype.kind != "f":
        raise ValueError(f"Q8_0 quantizes floats; got dtype {x.dtype}")
    if x.ndim == 0 or x.shape[-1] % BLOCK:
        raise ValueError(f"the last dimension must be a multiple of {BLOCK}; got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("cannot quantize NaN or infinite values")
    blocks = x.astype(np.float32).reshape(-1, BLOCK)
    d = np.abs(blocks).max(axis=1, keepdims=True) / np.float32(127)
    inv = np.where(d == 0, np.float32(0), np.float32(1) / np.where(d == 0, np.float32(1), d))
    v = blocks * inv
    # round half away from zero; not floor(|v| + 0.5), which float32 rounds wrongly for |v| = 0.49999997
    whole = np.floor(np.abs(v))
    q = np.sign(v) * (whole + (np.abs(v) - whole >= 0.5))
    out = np.concatenate([d.astype("<f2").view(np.uint8), q.astype(np.int8).view(np.uint8)], axis=1)
    return out.reshape(*x.shape[:-1], x.shape[-1] // BLOCK * BLOCK_BYTES)
    ### END SOLUTION


def dequantize_q8_0(data) -> np.ndarray:
    """Q8_0 bytes (``uint8``, last dimension a multiple of 34) back to float32 weights.

    Raise ``ValueError`` for a dtype other than ``uint8`` or a last dimension
    that is not a multiple of 34.
    """
    ### BEGIN SOLUTION
    data = np.asarray(data)
    if data.dtype != np.uint8:
        raise ValueError(f"Q8_0 data is bytes: pass a uint8 array, not {data.dtype}")
    if data.ndim == 0 or data.shape[-1] % BLOCK_BYTES:
        raise ValueError(f"the last dimension must be a multiple of {BLOCK_BYTES} bytes; got shape {data.shape}")
    blocks = np.ascontiguousarray(data).reshape(-1, BLOCK_BYTES)
    d = blocks[:, :2].copy().view("<f2").astype(np.float32)
    q = blocks[:, 2:].view(np.int8).astype(np.float32)
    return (q * d).reshape(*data.shape[:-1], data.shape[-1] // BLOCK_BYTES * BLOCK)
    ### END SOLUTION
