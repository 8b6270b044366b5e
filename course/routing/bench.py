"""Lesson 05's benchmark: how much stays local, how often it is right, what it costs, how long it takes.

Three ways to answer the shipped task set, in one run:

- **all local**: every task on the local model (Qwen2.5-Coder-0.5B when
  installed, SmolLM2-135M otherwise);
- **routed**: SmolLM2 scores each task; the policy keeps confident ones local
  and escalates the rest to the cloud;
- **all cloud**: every task on :class:`~course.routing.router.FakeCloud`.

Accuracy is counted on the tasks with a check. Cloud cost and latency come from
the cost model's *assumed* prices and the fake cloud's *assumed* latency; local
cost is the energy of the measured seconds at an *assumed* power and price. The
source's claims (SLMs handle 70-80% of routine agent tasks; 10-30x lower cost)
are set beside the measured figures, never replaced by them.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field

from .cost import CostModel
from .policy import EscalationPolicy
from .router import FakeCloud, HybridRouter, Routed, Task, load_tasks

SOURCE_CLAIMS = {"local_share": "SLMs handle 70-80% of routine agent tasks",
                 "cost_ratio": "10-30x lower cost than LLMs"}


@dataclass
class Summary:
    name: str
    tasks: int
    local_share: float
    checked: int
    correct: int
    cost: float
    median_s: float
    total_s: float

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.checked if self.checked else None


@dataclass
class RoutingBench:
    router_model: str
    local_model: str
    threshold: float
    budget: float
    cost_model: dict
    runs: dict[str, Summary]
    per_task: list[dict]
    router_agreement: float  # share of tasks where P(simple) >= threshold matches the author's "routine" label
    claims: dict[str, str] = field(default_factory=lambda: dict(SOURCE_CLAIMS))

    def cost_ratio(self) -> float | None:
        """All-cloud cost over routed cost: the figure the source's "10-30x" speaks of."""
        routed, cloud = self.runs["routed"].cost, self.runs["all cloud"].cost
        return cloud / routed if routed > 0 else None

    def to_dict(self) -> dict:
        data = asdict(self)
        for name, summary in self.runs.items():
            data["runs"][name]["accuracy"] = summary.accuracy
        data["cost_ratio_cloud_over_routed"] = self.cost_ratio()
        return data


def summarise(name: str, tasks: list[Task], results: list[Routed]) -> Summary:
    checks = [t.is_correct(r.answer) for t, r in zip(tasks, results)]
    return Summary(name, len(results), sum(r.route == "local" for r in results) / len(results),
                   sum(c is not None for c in checks), sum(c is True for c in checks),
                   sum(r.cost for r in results), statistics.median(r.seconds for r in results),
                   sum(r.seconds for r in results))


def bench_routing(*, threshold: float = 0.7, budget: float = 1.0, max_tokens: int = 96,
                  cost: CostModel | None = None, tasks: list[Task] | None = None, progress=None) -> RoutingBench:
    from ..backends.llama_cpp import LlamaCppBackend
    from ..models import model_status

    cost = cost or CostModel()
    tasks = tasks or load_tasks()
    router_backend = LlamaCppBackend("smollm2-135m")
    local_name = "qwen2.5-coder-0.5b" if model_status("qwen2.5-coder-0.5b").installed else "smollm2-135m"
    local = LlamaCppBackend(local_name)
    cloud = FakeCloud(tasks, count_tokens=local.count_tokens)

    def run(name: str, force: str | None) -> list[Routed]:
        router = HybridRouter(router_backend, local, cloud, EscalationPolicy(threshold, budget), cost,
                              max_tokens=max_tokens)
        out = []
        for task in tasks:
            out.append(router.run(task.prompt, force=force))
            if progress:
                progress(name, task.id)
        return out

    routed = run("routed", None)
    all_local = run("all local", "local")
    all_cloud = run("all cloud", "cloud")
    runs = {s.name: s for s in (summarise("all local", tasks, all_local), summarise("routed", tasks, routed),
                                summarise("all cloud", tasks, all_cloud))}
    per_task = [{"id": t.id, "kind": t.kind, "p_simple": round(r.confidence, 3), "route": r.route,
                 "routed_correct": t.is_correct(r.answer), "local_correct": t.is_correct(lo.answer),
                 "local_answer": lo.answer[:80]}
                for t, r, lo in zip(tasks, routed, all_local)]
    agreement = statistics.fmean((r.confidence >= threshold) == (t.kind == "routine") for t, r in zip(tasks, routed))
    return RoutingBench("smollm2-135m", local_name, threshold, budget, cost.to_dict(), runs, per_task, agreement)
