"""The source's model sizes, recomputed from public parameter counts at each quantization level."""

from course.formats.memory import NOMINAL_BPW, size_table

levels = ["F16", "Q8_0", "Q6_K", "Q4_K", "Q3_K", "Q2_K"]
print(f"{'model':<14}{'params':>8} " + "".join(f"{lv:>7}" for lv in levels) + "   source  implied bits/weight")
for row in size_table():
    sizes = "".join(f"{row['sizes_gb'][lv]:>7.2f}" for lv in levels)
    print(f"{row['model']:<14}{row['parameters'] / 1e9:>7.2f}B {sizes}   {row['source_gb']:>4} GB  "
          f"{row['implied_bpw']:.1f} (nearest {row['nearest_level']}, {NOMINAL_BPW[row['nearest_level']]} bits)")
print("sizes in GB (10^9 bytes) of the weights alone; KV cache and compute buffer come on top")
