"""Monitoring from vLLM's own /metrics: the series that matter, and percentiles from histogram buckets."""

from pathlib import Path

import course
from course.vllm import metrics
from course.vllm.service import fractions_fit

# a page saved from vLLM 0.32 on this machine after a few requests (`course.data`)
page = (Path(course.__file__).parent / "data" / "vllm_metrics_sample.txt").read_text()
samples = metrics.parse(page)
print(f"{len(page.splitlines())} lines, {len(samples)} sample names, e.g.:")
for key, name in list(metrics.SERIES.items())[:7]:
    print(f"  {name:40} {metrics.total(samples, name)}")
ttft = metrics.buckets(samples, metrics.TTFT)
print("time to first token, cumulative buckets (s, count):", [(le, int(n)) for le, n in ttft[:6]], "...")
print(f"p50 {metrics.histogram_quantile(0.5, ttft) * 1000:.0f} ms, "
      f"p95 {metrics.histogram_quantile(0.95, ttft) * 1000:.0f} ms (Prometheus' histogram_quantile rule)")

print("\nthe source's three servers on one GPU, gpu_memory_utilization 0.3 + 0.5 + 0.7:",
      "fit" if fractions_fit([0.3, 0.5, 0.7]) else "do not fit: each fraction is of the whole device")
