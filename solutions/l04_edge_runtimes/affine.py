"""Exercise l04.3: MLX's affine quantization, unpacked.

Apple MLX keeps a quantized matrix as three arrays:

* ``weight``: ``uint32`` words, each holding ``32 // bits`` codes of ``bits``
  bits, the first code in the lowest bits: code ``j`` of a word is
  ``(word >> (bits * j)) & (2**bits - 1)``; a row's codes follow each other
  word after word;
* ``scales`` and ``biases``: one value each per group of ``group_size``
  consecutive weights of a row (``float16``);

and a weight is ``scale * code + bias``. When MLX loads a GGUF file, a Q4_1
block (scale ``d``, minimum ``m``) becomes scale ``d`` and bias ``m``; a Q8_0
block (signed codes) becomes codes ``q + 128`` with bias ``-128 d``.
"""

import numpy as np


def dequantize_affine(weight: np.ndarray, scales: np.ndarray, biases: np.ndarray, bits: int,
                      group_size: int = 32) -> np.ndarray:
    """The weights (``float32``, shape ``[rows, cols]``) of MLX's affine arrays.

    ``weight`` has shape ``[rows, cols * bits // 32]``; ``scales`` and
    ``biases`` have shape ``[rows, cols // group_size]``. Compute in float32:
    ``scale * code + bias``. Raises ``ValueError`` for ``bits`` other than 2,
    4 or 8 (codes that fill a word exactly), or when the scales do not match
    the number of weights.
    """
    ### BEGIN SOLUTION
    if bits not in (2, 4, 8):
        raise ValueError(f"bits must be 2, 4 or 8, got {bits}")
    words = np.asarray(weight, dtype=np.uint32)
    shifts = np.arange(32 // bits, dtype=np.uint32) * bits
    codes = ((words[..., None] >> shifts) & np.uint32((1 << bits) - 1)).reshape(words.shape[0], -1)
    if scales.shape != biases.shape or codes.shape[1] != scales.shape[-1] * group_size:
        raise ValueError(f"{codes.shape[1]} weights per row do not match scales {scales.shape}, biases {biases.shape}")
    scale = np.repeat(np.asarray(scales, dtype=np.float32), group_size, axis=-1)
    bias = np.repeat(np.asarray(biases, dtype=np.float32), group_size, axis=-1)
    return scale * codes.astype(np.float32) + bias
    ### END SOLUTION
