"""Block quantization as llama.cpp does it, in NumPy, one format at a time.

A quantized tensor is a row of *blocks*. Each block holds a fixed number of
weights (32 for the legacy formats, 256 for the K-quants) as small integers and
one or two 16-bit floats that map them back to real numbers:

======  =====  ======  ==================================================  ============
type    block  bytes   layout                                              value
======  =====  ======  ==================================================  ============
Q8_0    32     34      d (f16), 32 x int8                                  d * q
Q4_0    32     18      d (f16), 16 bytes of 4-bit q                        d * (q - 8)
Q4_1    32     20      d (f16), m (f16), 16 bytes of 4-bit q               d * q + m
Q5_0    32     22      d (f16), 4 bytes of high bits, 16 bytes of low 4    d * (q - 16)
Q5_1    32     24      d (f16), m (f16), 4 bytes high bits, 16 bytes low   d * q + m
Q4_K    256    144     d, dmin (f16), 12 bytes of 6-bit scales and mins,   d*sc*q - dmin*m
                       128 bytes of 4-bit q; 8 sub-blocks of 32
Q6_K    256    210     128 bytes low 4 bits, 64 bytes high 2 bits,         d * sc * (q - 32)
                       16 x int8 scales, d (f16); 16 sub-blocks of 16
======  =====  ======  ==================================================  ============

In the 4-bit formats, byte ``j`` of a block holds weight ``j`` in its low
nibble and weight ``j + 16`` in its high nibble; the 5-bit formats keep the
fifth bit of weight ``i`` in bit ``i`` of a little-endian 32-bit word.

Every function here is vectorized over all blocks at once and is bit-exact
with ``gguf.quants`` (the reference that llama.cpp's own Python tools use),
which ``tests/unit/test_quant_blocks.py`` checks with hypothesis. The arithmetic is
done in float32 in the same order as llama.cpp's C reference, because a
different order changes the last bit of a scale and with it the bytes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# name: (weights per block, bytes per block)
BLOCK_TYPES: dict[str, tuple[int, int]] = {
    "Q8_0": (32, 34), "Q4_0": (32, 18), "Q4_1": (32, 20), "Q5_0": (32, 22), "Q5_1": (32, 24),
    "Q2_K": (256, 84), "Q3_K": (256, 110), "Q4_K": (256, 144), "Q5_K": (256, 176), "Q6_K": (256, 210),
    "F16": (1, 2), "F32": (1, 4),
}
F16_MAX = float(np.finfo(np.float16).max)


class QuantizationError(ValueError):
    """Input a quantizer cannot take: the message says what was wrong and what to pass instead."""


def bits_per_weight(type_name: str) -> float:
    """Bits each weight costs in ``type_name``, scales included: Q4_0 is 18 bytes / 32 weights = 4.5."""
    block, size = _type(type_name)
    return 8 * size / block


def _type(type_name: str) -> tuple[int, int]:
    try:
        return BLOCK_TYPES[type_name.upper()]
    except (KeyError, AttributeError):
        raise QuantizationError(f"unknown type {type_name!r}; known: {', '.join(BLOCK_TYPES)}") from None


# --- input checks --------------------------------------------------------------------------

def _as_blocks(x, block: int, type_name: str) -> tuple[np.ndarray, tuple[int, ...]]:
    """Check weights and view them as float32 blocks; return the blocks and the input's shape."""
    arr = np.asarray(x)
    if arr.dtype.kind != "f":
        raise QuantizationError(
            f"{type_name} quantizes floating-point weights; got dtype {arr.dtype}. "
            "Convert with np.asarray(x, dtype=np.float32)")
    if arr.ndim == 0 or arr.shape[-1] % block:
        n = arr.shape[-1] if arr.ndim else "a scalar"
        raise QuantizationError(
            f"{type_name} needs rows whose length is a multiple of {block}; the last dimension is {n}. "
            f"Pad the row with zeros to a multiple of {block} (llama.cpp keeps such tensors in another type)")
    arr = arr.astype(np.float32, copy=False)
    if not np.isfinite(arr).all():
        bad = int(np.flatnonzero(~np.isfinite(arr.ravel()))[0])
        raise QuantizationError(
            f"{type_name} cannot quantize NaN or infinite values; the first one is at flat index {bad} "
            f"({arr.ravel()[bad]}). Find where the weights went non-finite before quantizing")
    return arr.reshape(-1, block), arr.shape


def _as_bytes(data, size: int, type_name: str) -> tuple[np.ndarray, tuple[int, ...]]:
    arr = np.asarray(data)
    if arr.dtype != np.uint8:
        raise QuantizationError(
            f"{type_name} data is raw bytes: pass a uint8 array (got dtype {arr.dtype}); "
            "np.frombuffer(raw, dtype=np.uint8) turns bytes into one")
    if arr.ndim == 0 or arr.shape[-1] % size:
        n = arr.shape[-1] if arr.ndim else "a scalar"
        raise QuantizationError(
            f"{type_name} blocks are {size} bytes each; the last dimension holds {n} bytes, "
            f"not a multiple of {size}. Is this the right type, and did the read stop early?")
    return np.ascontiguousarray(arr).reshape(-1, size), arr.shape


def _check_scale(d: np.ndarray, type_name: str) -> None:
    with np.errstate(over="ignore"):
        overflow = np.isinf(d.astype(np.float16)).any()
    if overflow:
        raise QuantizationError(
            f"{type_name} stores its scale as a 16-bit float, which ends at {F16_MAX:g}; these weights "
            "need a larger one. Scale the tensor down first or keep it in F32")


# --- shared pieces --------------------------------------------------------------------------

def _f16_bytes(v: np.ndarray) -> np.ndarray:
    """float32 column -> (n, 2) bytes of its float16, little-endian."""
    return v.astype("<f2").reshape(-1, 1).view(np.uint8)


def _f16_value(b: np.ndarray) -> np.ndarray:
    """(n, 2) bytes -> (n, 1) float32."""
    return np.ascontiguousarray(b).view("<f2").astype(np.float32)


def _inverse(d: np.ndarray, type_name: str) -> np.ndarray:
    """``1 / d``, and 0 where ``d`` is 0 (a block of zeros, or of equal values in the _1 types)."""
    out = np.zeros_like(d)
    with np.errstate(over="ignore", divide="ignore"):
        np.divide(np.float32(1), d, out=out, where=d != 0)
    if np.isinf(out).any():
        raise QuantizationError(
            f"{type_name}: a block's weights are so small (below about 1e-37) that 1 / scale overflows float32, "
            "and llama.cpp's result is undefined there. Set such weights to zero, or scale the tensor up")
    return out


def _pack_nibbles(q: np.ndarray) -> np.ndarray:
    """(n, 32) values 0..15 -> (n, 16) bytes: weight j low, weight j+16 high."""
    return (q[:, :16] & 0x0F) | ((q[:, 16:] & 0x0F) << 4)


def _unpack_nibbles(b: np.ndarray) -> np.ndarray:
    """(n, 16) bytes -> (n, 32) values 0..15."""
    return np.concatenate([b & 0x0F, b >> 4], axis=1)


def _pack_high_bits(q: np.ndarray) -> np.ndarray:
    """(n, 32) 5-bit values -> (n, 4) bytes: bit i of a little-endian uint32 is bit 4 of weight i."""
    bits = ((q >> 4) & 1).astype(np.uint32)
    word = (bits << np.arange(32, dtype=np.uint32)).sum(axis=1, dtype=np.uint32)
    return word.astype("<u4").reshape(-1, 1).view(np.uint8)


def _unpack_high_bits(b: np.ndarray) -> np.ndarray:
    word = np.ascontiguousarray(b).view("<u4").astype(np.uint32)  # (n, 1)
    return ((word >> np.arange(32, dtype=np.uint32)) & 1).astype(np.uint8) << 4


def _round_half_away(v: np.ndarray) -> np.ndarray:
    """C's roundf: halves go away from zero (np.round would send 2.5 to 2)."""
    a = np.abs(v)
    whole = np.floor(a)
    return np.copysign(whole + (a - whole >= np.float32(0.5)), v)


def _symmetric_max(blocks: np.ndarray) -> np.ndarray:
    """Per block, the value with the largest magnitude, sign kept (the first one on ties)."""
    return np.take_along_axis(blocks, np.abs(blocks).argmax(axis=1, keepdims=True), axis=1)


def _out(blocks: np.ndarray, shape: tuple[int, ...], block: int, size: int) -> np.ndarray:
    return blocks.reshape(*shape[:-1], shape[-1] // block * size)


# --- the formats ---------------------------------------------------------------------------

def quantize_q8_0(x) -> np.ndarray:
    """Q8_0: one scale per 32 weights, ``d = max|x| / 127``, ``q = round(x / d)`` as int8."""
    b, shape = _as_blocks(x, 32, "Q8_0")
    d = np.abs(b).max(axis=1, keepdims=True) / np.float32(127)
    _check_scale(d, "Q8_0")
    q = _round_half_away(b * _inverse(d, "Q8_0")).astype(np.int8).view(np.uint8)
    return _out(np.hstack([_f16_bytes(d), q]), shape, 32, 34)


def dequantize_q8_0(data) -> np.ndarray:
    b, shape = _as_bytes(data, 34, "Q8_0")
    q = b[:, 2:].view(np.int8).astype(np.float32)
    return (q * _f16_value(b[:, :2])).reshape(*shape[:-1], shape[-1] // 34 * 32)


def quantize_q4_0(x) -> np.ndarray:
    """Q4_0: the signed extreme maps to -8, ``q = trunc(x / d + 8.5)`` clipped to 0..15."""
    b, shape = _as_blocks(x, 32, "Q4_0")
    d = _symmetric_max(b) / np.float32(-8)
    _check_scale(d, "Q4_0")
    q = np.minimum(np.trunc(b * _inverse(d, "Q4_0") + np.float32(8.5)), 15).astype(np.uint8)
    return _out(np.hstack([_f16_bytes(d), _pack_nibbles(q)]), shape, 32, 18)


def dequantize_q4_0(data) -> np.ndarray:
    b, shape = _as_bytes(data, 18, "Q4_0")
    q = _unpack_nibbles(b[:, 2:]).astype(np.int8) - np.int8(8)
    return (_f16_value(b[:, :2]) * q.astype(np.float32)).reshape(*shape[:-1], shape[-1] // 18 * 32)


def quantize_q4_1(x) -> np.ndarray:
    """Q4_1: the block's range in 15 steps from its minimum, ``q = trunc((x - m) / d + 0.5)``."""
    b, shape = _as_blocks(x, 32, "Q4_1")
    lo = b.min(axis=1, keepdims=True)
    d = (b.max(axis=1, keepdims=True) - lo) / np.float32(15)
    _check_scale(np.hstack([d, lo]), "Q4_1")
    q = np.minimum(np.trunc((b - lo) * _inverse(d, "Q4_1") + np.float32(0.5)), 15).astype(np.uint8)
    return _out(np.hstack([_f16_bytes(d), _f16_bytes(lo), _pack_nibbles(q)]), shape, 32, 20)


def dequantize_q4_1(data) -> np.ndarray:
    b, shape = _as_bytes(data, 20, "Q4_1")
    q = _unpack_nibbles(b[:, 4:]).astype(np.float32)
    return (_f16_value(b[:, :2]) * q + _f16_value(b[:, 2:4])).reshape(*shape[:-1], shape[-1] // 20 * 32)


def quantize_q5_0(x) -> np.ndarray:
    """Q5_0: as Q4_0 with 32 levels: the extreme maps to -16, ``q = trunc(x / d + 16.5)``."""
    b, shape = _as_blocks(x, 32, "Q5_0")
    d = _symmetric_max(b) / np.float32(-16)
    _check_scale(d, "Q5_0")
    q = np.minimum(np.trunc(b * _inverse(d, "Q5_0") + np.float32(16.5)), 31).astype(np.uint8)
    return _out(np.hstack([_f16_bytes(d), _pack_high_bits(q), _pack_nibbles(q)]), shape, 32, 22)


def dequantize_q5_0(data) -> np.ndarray:
    b, shape = _as_bytes(data, 22, "Q5_0")
    q = (_unpack_nibbles(b[:, 6:]) | _unpack_high_bits(b[:, 2:6])).astype(np.int8) - np.int8(16)
    return (_f16_value(b[:, :2]) * q.astype(np.float32)).reshape(*shape[:-1], shape[-1] // 22 * 32)


def quantize_q5_1(x) -> np.ndarray:
    """Q5_1: as Q4_1 with 31 steps."""
    b, shape = _as_blocks(x, 32, "Q5_1")
    lo = b.min(axis=1, keepdims=True)
    d = (b.max(axis=1, keepdims=True) - lo) / np.float32(31)
    _check_scale(np.hstack([d, lo]), "Q5_1")
    q = np.minimum(np.trunc((b - lo) * _inverse(d, "Q5_1") + np.float32(0.5)), 31).astype(np.uint8)
    parts = [_f16_bytes(d), _f16_bytes(lo), _pack_high_bits(q), _pack_nibbles(q)]
    return _out(np.hstack(parts), shape, 32, 24)


def dequantize_q5_1(data) -> np.ndarray:
    b, shape = _as_bytes(data, 24, "Q5_1")
    q = (_unpack_nibbles(b[:, 8:]) | _unpack_high_bits(b[:, 4:8])).astype(np.float32)
    return (_f16_value(b[:, :2]) * q + _f16_value(b[:, 2:4])).reshape(*shape[:-1], shape[-1] // 24 * 32)


def q4_k_scales(packed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unpack Q4_K's 12 bytes into 8 six-bit scales and 8 six-bit mins per block.

    Sub-blocks 0-3 keep scale and min in the low 6 bits of bytes 0-3 and 4-7.
    Sub-blocks 4-7 keep their low 4 bits in bytes 8-11 (scale low nibble, min
    high nibble) and their top 2 bits in the spare top bits of bytes 0-3
    (scales) and 4-7 (mins).
    """
    p = packed.astype(np.uint8)
    first_sc, first_m, extra = p[:, 0:4], p[:, 4:8], p[:, 8:12]
    scales = np.hstack([first_sc & 63, (extra & 0x0F) | ((first_sc >> 6) << 4)])
    mins = np.hstack([first_m & 63, (extra >> 4) | ((first_m >> 6) << 4)])
    return scales, mins


def dequantize_q4_k(data) -> np.ndarray:
    b, shape = _as_bytes(data, 144, "Q4_K")
    n = b.shape[0]
    d, dmin = _f16_value(b[:, 0:2]), _f16_value(b[:, 2:4])
    sc, m = q4_k_scales(b[:, 4:16])
    # 128 bytes = 4 groups of 32 bytes; a group's low nibbles are one sub-block, its high nibbles the next
    groups = b[:, 16:].reshape(n, 4, 32)
    q = np.stack([groups & 0x0F, groups >> 4], axis=2).reshape(n, 8, 32).astype(np.float32)
    scale = (d * sc.astype(np.float32)).reshape(n, 8, 1)
    offset = (dmin * m.astype(np.float32)).reshape(n, 8, 1)
    return (scale * q - offset).reshape(*shape[:-1], shape[-1] // 144 * 256)


def dequantize_q6_k(data) -> np.ndarray:
    b, shape = _as_bytes(data, 210, "Q6_K")
    n = b.shape[0]
    low, high = b[:, :128].reshape(n, 2, 64), b[:, 128:192].reshape(n, 2, 32)
    sc = b[:, 192:208].view(np.int8).astype(np.float32)
    d = _f16_value(b[:, 208:210])
    # each half of 128 weights: low nibbles of its 64 low bytes give weights 0-63, high nibbles 64-127;
    # its 32 high bytes give 2 bits to weights l, l+32, l+64, l+96
    low4 = np.concatenate([low & 0x0F, low >> 4], axis=2)  # (n, 2, 128)
    high2 = np.concatenate([(high >> s) & 3 for s in (0, 2, 4, 6)], axis=2)  # (n, 2, 128)
    q = ((low4 | (high2 << 4)).astype(np.int8) - np.int8(32)).reshape(n, 16, 16).astype(np.float32)
    return ((d * sc).reshape(n, 16, 1) * q).reshape(*shape[:-1], shape[-1] // 210 * 256)


QUANTIZERS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "Q8_0": quantize_q8_0, "Q4_0": quantize_q4_0, "Q4_1": quantize_q4_1,
    "Q5_0": quantize_q5_0, "Q5_1": quantize_q5_1,
}
DEQUANTIZERS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "Q8_0": dequantize_q8_0, "Q4_0": dequantize_q4_0, "Q4_1": dequantize_q4_1,
    "Q5_0": dequantize_q5_0, "Q5_1": dequantize_q5_1, "Q4_K": dequantize_q4_k, "Q6_K": dequantize_q6_k,
}


def quantize(x, type_name: str) -> np.ndarray:
    """Quantize float weights (last dimension a multiple of the block) to raw ``type_name`` bytes."""
    _type(type_name)
    fn = QUANTIZERS.get(type_name.upper())
    if fn is None:
        raise QuantizationError(
            f"the course quantizes {', '.join(QUANTIZERS)} in NumPy; {type_name} needs llama.cpp's "
            "quantizer (course.quant.ladder, through llama-cpp-python)")
    return fn(x)


def dequantize(data, type_name: str) -> np.ndarray:
    """Raw ``type_name`` bytes back to float32 weights."""
    _type(type_name)
    fn = DEQUANTIZERS.get(type_name.upper())
    if fn is None:
        raise QuantizationError(f"the course dequantizes {', '.join(DEQUANTIZERS)}; not {type_name}")
    return fn(data)


# --- how much was lost -----------------------------------------------------------------------

def error_metrics(original, restored) -> dict[str, float]:
    """RMSE, largest absolute error and signal-to-noise ratio (dB) of a round trip."""
    x = np.asarray(original, dtype=np.float64).ravel()
    y = np.asarray(restored, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise QuantizationError(f"original has {x.size} values, restored {y.size}: compare the same tensor")
    noise = float(np.sum((x - y) ** 2))
    signal = float(np.sum(x ** 2))
    if noise == 0:
        snr = float("inf")
    elif signal == 0:
        snr = float("-inf")
    else:
        snr = 10 * np.log10(signal / noise)
    return {
        "rmse": float(np.sqrt(noise / x.size)) if x.size else 0.0,
        "max_abs_error": float(np.max(np.abs(x - y))) if x.size else 0.0,
        "snr_db": float(snr),
    }


def round_trip(x, type_name: str) -> dict[str, float]:
    """Quantize and dequantize ``x``; the error metrics and the bits per weight spent."""
    restored = dequantize(quantize(x, type_name), type_name)
    return {"type": type_name.upper(), "bits_per_weight": bits_per_weight(type_name),
            **error_metrics(x, restored)}
