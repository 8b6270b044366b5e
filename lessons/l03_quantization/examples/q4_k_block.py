"""Take one real Q4_K block apart: two f16 scales, eight 6-bit scales and mins, 256 four-bit values."""

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import quants

from course.formats import read_gguf
from course.models import model_path
from course.quant import blocks

gemma = read_gguf(model_path("gemma3-270m"))
t = next(t for t in gemma.tensors if t.type_name == "Q4_K")
block = np.asarray(gemma.tensor_data(t)[0, :144])  # the first block of the first row
d, dmin = block[0:4].view("<f2")
sc, m = blocks.q4_k_scales(block[4:16].reshape(1, 12))
print(f"{t.name}: {t.shape[0]} weights per row = {t.shape[0] // 256} Q4_K blocks of 144 bytes")
print(f"d = {d:.3e}, dmin = {dmin:.3e}")
print(f"6-bit scales: {sc[0].tolist()}")
print(f"6-bit mins:   {m[0].tolist()}")
w = blocks.dequantize_q4_k(block)
assert np.array_equal(w, quants.dequantize(block, T.Q4_K))
for i in range(0, 8, 3):
    part = w[32 * i:32 * (i + 1)]
    print(f"sub-block {i}: scale {d * sc[0, i]:.3e}, min {dmin * m[0, i]:.3e}, "
          f"weights from {part.min():+.4f} to {part.max():+.4f}")
