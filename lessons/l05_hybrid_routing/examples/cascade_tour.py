"""The same router, two signals, on five shipped tasks.

``signal="router"``: SmolLM2 rates each task before anyone answers.
``signal="self"``: a cascade; the local model answers first and the policy
keeps the answer only if its mean token probability reaches the threshold.
The local model here is SmolLM2-135M too (the benchmark uses Qwen2.5-Coder-0.5B);
the cloud is FakeCloud, priced at the assumed default prices.
"""

from course.backends import LlamaCppBackend
from course.routing import EscalationPolicy
from course.routing.router import FakeCloud, HybridRouter, load_tasks

tasks = load_tasks()
picked = [t for t in tasks if t.id in ("capital", "week", "percent", "youngest", "workers")]
smollm2 = LlamaCppBackend("smollm2-135m")
cloud = FakeCloud(tasks, count_tokens=smollm2.count_tokens)

for signal, threshold in (("router", 0.7), ("self", 0.85)):
    hybrid = HybridRouter(smollm2, smollm2, cloud, EscalationPolicy(threshold, budget=1.0),
                          max_tokens=48, signal=signal)
    print(f"signal={signal!r}, threshold {threshold}")
    for task in picked:
        r = hybrid.run(task.prompt)
        print(f"  {task.id:9} confidence {r.confidence:.3f} -> {r.route:5} ({r.reason:9}) "
              f"correct: {task.is_correct(r.answer)!s:5} {r.seconds:5.2f} s ${r.cost:.1e}  {r.answer.strip()[:26]!r}")
    print(f"  spent on the cloud: ${hybrid.policy.spent:.6f} (assumed prices; cloud seconds are assumed too)")
