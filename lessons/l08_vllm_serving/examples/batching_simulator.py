"""Continuous batching on a simulated engine: how the batch limit and the KV cache size shape a run."""

import random

from course.vllm.scheduler import Request, SchedulerConfig, simulate

rng = random.Random(0)


def workload():
    """64 requests arriving together: prompts of 50 to 300 tokens, replies of 20 to 120."""
    return [Request(f"r{i}", [rng.randrange(49152) for _ in range(rng.randint(50, 300))], rng.randint(20, 120))
            for i in range(64)]


print(f"{'max_num_seqs':>12} {'KV blocks':>9} {'steps':>6} {'tokens/step':>11} {'preemptions':>11} {'worst TTFT':>10}")
for seqs, blocks in [(1, 512), (4, 512), (16, 512), (64, 512), (64, 128), (64, 48)]:
    rng.seed(0)
    sim = simulate(workload(), num_blocks=blocks, block_size=16,
                   config=SchedulerConfig(max_num_seqs=seqs, max_num_batched_tokens=2048))
    s = sim.summary()
    print(f"{seqs:>12} {blocks:>9} {s['steps']:>6} {s['mean_batch_tokens']:>11.1f} {s['preemptions']:>11} "
          f"{s['max_ttft_steps']:>7} steps")
