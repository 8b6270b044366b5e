"""How MLX holds SmolLM2's Q4_1 weights when it reads the GGUF file itself."""

import gguf
import mlx.core as mx
import numpy as np

from course.formats.gguf_file import read_gguf
from course.models import model_path
from course.runtimes.mlx_layout import dequantize_affine, gguf_to_affine

path = model_path("smollm2-135m")
arrays = mx.load(str(path))  # GGUF read by MLX: quantized tensors stay quantized
name = "blk.0.attn_q"
weight, scales, biases = (np.array(arrays[f"{name}.{part}"]) for part in ("weight", "scales", "biases"))
print(f"{name}: weight {weight.dtype} {weight.shape}, scales {scales.dtype} {scales.shape}, biases {biases.shape}")
print(f"  576 weights per row = {weight.shape[1]} words x 8 codes of 4 bits; {scales.shape[1]} groups of 32")

model = read_gguf(path)
raw = model.tensor_data(f"{name}.weight")  # the Q4_1 blocks as llama.cpp stores them
ours = gguf_to_affine(raw, "Q4_1", model.tensor(f"{name}.weight").shape[0])
print("the course's rewrite of the blocks is MLX's, bit for bit:",
      all(np.array_equal(a.view(np.uint8), b.view(np.uint8)) for a, b in zip(ours, (weight, scales, biases))))

values = dequantize_affine(weight, scales, biases, bits=4)
reference = gguf.quants.dequantize(np.asarray(raw), gguf.GGMLQuantizationType.Q4_1).reshape(values.shape)
print(f"dequantized: {values.shape}, largest difference from gguf's own dequantizer: "
      f"{np.abs(values - reference).max():.1e}")
print(f"bytes: Q4_1 blocks {raw.nbytes:,}, MLX's arrays {weight.nbytes + scales.nbytes + biases.nbytes:,}")

# Why MLX is slow here: its Linux CPU wheel multiplies matrices with a reference BLAS.
import time  # noqa: E402

a = np.random.default_rng(0).standard_normal((1024, 1024), dtype=np.float32)
m = mx.array(a)
mx.eval(m @ m)  # warm up
start = time.perf_counter()
mx.eval(m @ m)  # MLX is lazy: eval runs the product
mlx_s = time.perf_counter() - start
start = time.perf_counter()
a @ a
numpy_s = time.perf_counter() - start
print(f"a 1024x1024 float32 product: MLX {mlx_s * 1000:.0f} ms, NumPy {numpy_s * 1000:.1f} ms")
