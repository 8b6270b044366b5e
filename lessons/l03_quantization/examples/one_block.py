"""One block of 32 weights through Q8_0 and Q4_0: the bytes, the levels, what comes back."""

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import quants

from course.quant import blocks

rng = np.random.default_rng(0)
x = (rng.standard_normal(32) * 0.05).astype(np.float32)  # a block of weights of a typical size

for name in ("Q8_0", "Q4_0"):
    data = blocks.quantize(x, name)
    assert np.array_equal(data, quants.quantize(x, T[name]))  # the same bytes llama.cpp's tools write
    back = blocks.dequantize(data, name)
    d = data[:2].view("<f2")[0]
    print(f"{name}: {data.size} bytes for 32 weights ({blocks.bits_per_weight(name)} bits each), scale d = {d:.6f}")
    print(f"  bytes: {data[:10].tobytes().hex(' ')} ...")
    if name == "Q4_0":
        q = np.concatenate([data[2:] & 0x0F, data[2:] >> 4])
        print(f"  levels (0..15, 8 is zero): {q[:16].tolist()}")
        print(f"  byte 2 = 0x{data[2]:02x}: low nibble {data[2] & 0xF} is weight 0, high nibble {data[2] >> 4} is weight 16")
    err = blocks.error_metrics(x, back)
    print(f"  weight 0: {x[0]:+.5f} -> {back[0]:+.5f}; largest error {err['max_abs_error']:.5f}, "
          f"signal-to-noise {err['snr_db']:.1f} dB")
