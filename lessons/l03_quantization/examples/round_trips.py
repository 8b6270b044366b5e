"""Every block format on two kinds of weights: bits spent against error, measured."""

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import quants

from course.formats import read_gguf
from course.models import model_path
from course.quant import blocks

# Gemma 3's token embeddings are stored in Q8_0: the closest to unquantized weights the course ships
gemma = read_gguf(model_path("gemma3-270m"))
emb = quants.dequantize(np.asarray(gemma.tensor_data("token_embd.weight")[:2048]), T.Q8_0)
gauss = np.random.default_rng(1).standard_normal((2048, 640)).astype(np.float32)

print(f"{'type':<6}{'bits/w':>7} | {'Gaussian: rmse':>15}{'SNR dB':>8} | {'Gemma embeddings: rmse':>23}{'SNR dB':>8}")
for name in ("Q8_0", "Q5_1", "Q5_0", "Q4_1", "Q4_0"):
    g = blocks.round_trip(gauss, name)
    e = blocks.round_trip(emb, name)
    print(f"{name:<6}{g['bits_per_weight']:>7.2f} | {g['rmse']:>15.5f}{g['snr_db']:>8.1f} | "
          f"{e['rmse']:>23.6f}{e['snr_db']:>8.1f}")
