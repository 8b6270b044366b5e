"""Graceful degradation: the cloud dies mid-run and no task is lost.

Fakes only, so that the run is instant and the same every time: a scripted
router gives each task a fixed P(simple), a scripted local model answers, and
FakeCloud fails from its third request on (``fail_after = 2``), like an
endpoint that starts answering HTTP 503.
"""

import math

from course.backends import Reply, ScriptedBackend
from course.routing import EscalationPolicy
from course.routing.router import FakeCloud, HybridRouter, load_tasks


class ScriptedRouter:
    """Stands in for SmolLM2's label_logprobs: a fixed P(simple) per prompt."""

    def __init__(self, p_simple: dict[str, float]):
        self.p_simple = p_simple

    def label_logprobs(self, messages: list[dict], labels: list[str]) -> dict[str, float]:
        p = self.p_simple[messages[-1]["content"]]
        return {"simple": math.log(p), "complex": math.log(1 - p)}


tasks = {t.id: t for t in load_tasks()}
run = [("capital", 0.95), ("train", 0.20), ("median", 0.40), ("workers", 0.30), ("proof", 0.10)]
router = ScriptedRouter({tasks[task_id].prompt: p for task_id, p in run})
# the local model's answers, in the order it will be asked: capital, then the two tasks the cloud drops
local = ScriptedBackend([Reply("Paris"), Reply("6 days"), Reply("An odd number is 2k + 1, so the sum is even.")])
cloud = FakeCloud(list(tasks.values()))
cloud.fail_after = 2

hybrid = HybridRouter(router, local, cloud, EscalationPolicy(threshold=0.7, budget=1.0))
for task_id, _ in run:
    result = hybrid.run(tasks[task_id].prompt)
    print(f"{task_id:8} P(simple) {result.confidence:.2f} -> {result.route:5} ({result.reason:12}) "
          f"{result.answer[:28]!r:32} notice: {result.notice}")
print(f"cloud requests: {cloud.requests} (2 answered, {cloud.requests - 2} failed); tasks answered: {len(run)} of {len(run)}")

# When the router knows it is offline, the policy keeps the task local before any request is sent.
offline = HybridRouter(router, ScriptedBackend([Reply("The train arrives at 19:00.")]), cloud,
                       EscalationPolicy(threshold=0.7), online=lambda: False)
result = offline.run(tasks["train"].prompt)
print(f"known offline: train -> {result.route} ({result.reason}), notice: {result.notice}, "
      f"cloud requests still {cloud.requests}")
