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
    # YOUR CODE HERE: exercise l04.3, MLX's quantized layout
    raise NotImplementedError("exercise l04.3: read lessons/l04_edge_runtimes/index.md#mlxs-quantized-layout, then run `course check l04`")
