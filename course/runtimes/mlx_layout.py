"""How Apple MLX holds GGUF's quantized weights: the affine format, from the bytes up.

llama.cpp stores a quantized tensor as *blocks* of 32 weights (lesson 03):
Q4_1 is a float16 scale ``d``, a float16 minimum ``m`` and 16 bytes of 4-bit
codes, and a weight is ``d * q + m``. MLX's quantized matrices use one
*affine* layout for every bit width:

* ``weight``: ``uint32`` words, each holding ``32 / bits`` codes, the first
  code in the lowest bits (``(word >> (bits * j)) & (2**bits - 1)`` is code ``j``);
* ``scales`` and ``biases``: one ``float16`` each per group of ``group_size``
  (here 32) weights along a row;
* a weight is ``scale * code + bias``.

So ``mx.load`` of a GGUF file can keep Q4_0, Q4_1 and Q8_0 tensors quantized
with no loss, by rewriting each block:

| GGUF block | codes | scale | bias |
| --- | --- | --- | --- |
| Q4_1: ``d, m``, 4-bit ``q`` | ``q`` | ``d`` | ``m`` |
| Q4_0: ``d``, 4-bit ``q``, weight ``d * (q - 8)`` | ``q`` | ``d`` | ``-8 d`` |
| Q8_0: ``d``, signed 8-bit ``q``, weight ``d * q`` | ``q + 128`` | ``d`` | ``-128 d`` |

The one real change is the order of the codes: a Q4_x block puts weight ``j``
in the low half of byte ``j`` and weight ``j + 16`` in the high half, where
MLX packs the 32 codes in order, eight to a word. :func:`gguf_to_affine`
does this rewriting with NumPy (``mx.load`` does it in C++; the tests check
the two agree bit for bit) and :func:`dequantize_affine` turns the affine
arrays back into floats.
"""

from __future__ import annotations

import numpy as np

GROUP = 32
BLOCK_BYTES = {"Q4_0": 18, "Q4_1": 20, "Q8_0": 34}
BITS = {"Q4_0": 4, "Q4_1": 4, "Q8_0": 8}


def pack_codes(codes: np.ndarray, bits: int) -> np.ndarray:
    """Codes (``[rows, cols]``, each below ``2**bits``) packed ``32 // bits`` to a ``uint32``, lowest bits first."""
    if bits not in (2, 4, 8):
        raise ValueError(f"bits must be 2, 4 or 8 (codes that fill a uint32 exactly), got {bits}")
    per_word = 32 // bits
    rows, cols = codes.shape
    if cols % per_word:
        raise ValueError(f"{cols} codes per row do not fill whole words of {per_word}")
    grouped = codes.astype(np.uint32).reshape(rows, cols // per_word, per_word)
    shifts = (np.arange(per_word, dtype=np.uint32) * bits)
    return np.bitwise_or.reduce(grouped << shifts, axis=-1).astype(np.uint32)


def dequantize_affine(weight: np.ndarray, scales: np.ndarray, biases: np.ndarray, bits: int,
                      group_size: int = GROUP) -> np.ndarray:
    """Floats (``float32 [rows, cols]``) from MLX's affine arrays: ``scale * code + bias`` per group."""
    if bits not in (2, 4, 8):
        raise ValueError(f"bits must be 2, 4 or 8, got {bits}")
    per_word = 32 // bits
    words = np.asarray(weight, dtype=np.uint32)
    shifts = np.arange(per_word, dtype=np.uint32) * bits
    codes = ((words[..., None] >> shifts) & np.uint32((1 << bits) - 1)).reshape(words.shape[0], -1)
    rows, cols = codes.shape
    if cols != scales.shape[-1] * group_size or scales.shape != biases.shape:
        raise ValueError(f"{cols} weights per row need {cols // group_size} scales and biases per row, "
                         f"got scales {scales.shape} and biases {biases.shape}")
    s = np.repeat(np.asarray(scales, dtype=np.float32), group_size, axis=-1)
    b = np.repeat(np.asarray(biases, dtype=np.float32), group_size, axis=-1)
    return s * codes.astype(np.float32) + b


def gguf_to_affine(blocks: np.ndarray, type_name: str, n_per_row: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(weight, scales, biases)`` in MLX's layout from a GGUF tensor's raw bytes (``uint8``).

    ``blocks``: the tensor's bytes, any shape (``GGUFReader``'s ``data`` or
    ``course.formats``' ``tensor_data``); ``n_per_row``: weights per row (the
    tensor's first, fastest-varying dimension).
    """
    if type_name not in BLOCK_BYTES:
        raise ValueError(f"{type_name} is not kept quantized by MLX; it reads Q4_0, Q4_1 and Q8_0")
    size = BLOCK_BYTES[type_name]
    raw = np.ascontiguousarray(blocks, dtype=np.uint8).reshape(-1, size)
    d = raw[:, 0:2].copy().view(np.float16)[:, 0]
    if type_name == "Q4_1":
        m = raw[:, 2:4].copy().view(np.float16)[:, 0]
        qs = raw[:, 4:]
    else:
        qs = raw[:, 2:]
    if type_name == "Q8_0":
        codes = (qs.view(np.int8).astype(np.int16) + 128).astype(np.uint8)
        bias = (d.astype(np.float32) * -128).astype(np.float16)
    else:
        codes = np.concatenate([qs & 0x0F, qs >> 4], axis=1)  # weights 0-15 low halves, 16-31 high halves
        bias = m if type_name == "Q4_1" else (d.astype(np.float32) * -8).astype(np.float16)
    rows = raw.shape[0] * GROUP // n_per_row
    weight = pack_codes(codes.reshape(rows, n_per_row), BITS[type_name])
    return weight, d.reshape(rows, -1), bias.reshape(rows, -1)


__all__ = ["dequantize_affine", "gguf_to_affine", "pack_codes"]
