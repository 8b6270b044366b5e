"""Lesson 05's benchmark: how much stays local, how often it is right, what it costs, how long it takes.

Four ways to answer the shipped task set, in one run:

- **all local**: every task on the local model (Qwen2.5-Coder-0.5B when
  installed, SmolLM2-135M otherwise);
- **routed**: SmolLM2 scores each task before it is answered; the policy keeps
  confident ones local and escalates the rest to the cloud;
- **cascade**: the local model answers every task; the policy keeps the answers
  it was sure of (mean token probability) and escalates the rest;
- **all cloud**: every task on :class:`~course.routing.router.FakeCloud`.

Accuracy is counted on the tasks with a check. Cloud cost and latency come from
the cost model's *assumed* prices and the fake cloud's *assumed* latency; local
cost is the energy of the measured seconds at an *assumed* power and price. The
source's claims (SLMs handle 70-80% of routine agent tasks; 10-30x lower cost)
are set beside the measured figures, never replaced by them. A sweep shows what
each signal would give at other thresholds (computed from the baselines' answers;
thresholds picked on this same set are optimistic for any other).
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field

from .cost import CostModel
from .policy import EscalationPolicy
from .router import FakeCloud, HybridRouter, Routed, Task, load_tasks
from .signals import answer_confidence

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
class SweepRow:
    signal: str
    threshold: float
    local_share: float
    correct: int
    checked: int
    cost: float


@dataclass
class RoutingBench:
    router_model: str
    local_model: str
    thresholds: dict[str, float]  # per signal
    budget: float
    cost_model: dict
    runs: dict[str, Summary]
    per_task: list[dict]
    router_agreement: float  # share of tasks where P(simple) >= threshold matches the author's "routine" label
    sweep: list[SweepRow] = field(default_factory=list)
    claims: dict[str, str] = field(default_factory=lambda: dict(SOURCE_CLAIMS))

    def cost_ratio(self, run: str = "routed") -> float | None:
        """All-cloud cost over a routed run's cost: the figure the source's "10-30x" speaks of."""
        routed, cloud = self.runs[run].cost, self.runs["all cloud"].cost
        return cloud / routed if routed > 0 else None

    def routine_handled(self) -> tuple[int, int]:
        """Routine checked tasks the local model answers correctly on its own, of all routine checked tasks:
        the measured figure beside the source's "70-80% of routine tasks"."""
        routine = [t for t in self.per_task if t["kind"] == "routine" and t["local_correct"] is not None]
        return sum(t["local_correct"] for t in routine), len(routine)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["routine_handled_locally"] = dict(zip(("correct", "of"), self.routine_handled()))
        for name, summary in self.runs.items():
            data["runs"][name]["accuracy"] = summary.accuracy
        data["cost_ratio_cloud_over_routed"] = {name: self.cost_ratio(name) for name in ROUTED_RUNS}
        return data


ROUTED_RUNS = ("routed", "cascade")
SWEEP = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95)


def summarise(name: str, tasks: list[Task], results: list[Routed]) -> Summary:
    checks = [t.is_correct(r.answer) for t, r in zip(tasks, results)]
    return Summary(name, len(results), sum(r.route == "local" for r in results) / len(results),
                   sum(c is not None for c in checks), sum(c is True for c in checks),
                   sum(r.cost for r in results), statistics.median(r.seconds for r in results),
                   sum(r.seconds for r in results))


def sweep(signal: str, confidences: list[float], tasks: list[Task], local: list[Routed], cloud: list[Routed],
          thresholds=SWEEP, *, local_always_runs: bool) -> list[SweepRow]:
    """What routing at each threshold would give, from the two baselines' answers and costs.

    ``local_always_runs``: a cascade pays for the local answer even when it escalates."""
    rows = []
    for threshold in thresholds:
        keep = [c >= threshold for c in confidences]
        answers = [lo if k else cl for k, lo, cl in zip(keep, local, cloud)]
        checks = [t.is_correct(a.answer) for t, a in zip(tasks, answers)]
        cost = sum((lo.cost if k or local_always_runs else 0.0) + (0.0 if k else cl.cost)
                   for k, lo, cl in zip(keep, local, cloud))
        rows.append(SweepRow(signal, threshold, sum(keep) / len(keep), sum(c is True for c in checks),
                             sum(c is not None for c in checks), cost))
    return rows


def bench_routing(*, threshold: float = 0.7, self_threshold: float = 0.85, budget: float = 1.0,
                  max_tokens: int = 96, cost: CostModel | None = None, tasks: list[Task] | None = None,
                  progress=None) -> RoutingBench:
    """Five runs over the task set: the two baselines, the router and the cascade at their thresholds."""
    from ..backends.llama_cpp import LlamaCppBackend
    from ..models import model_status

    cost = cost or CostModel()
    tasks = tasks or load_tasks()
    router_backend = LlamaCppBackend("smollm2-135m")
    local_name = "qwen2.5-coder-0.5b" if model_status("qwen2.5-coder-0.5b").installed else "smollm2-135m"
    local = LlamaCppBackend(local_name)
    cloud = FakeCloud(tasks, count_tokens=local.count_tokens)

    def run(name: str, force: str | None, signal: str, limit: float) -> list[Routed]:
        router = HybridRouter(router_backend, local, cloud, EscalationPolicy(limit, budget), cost,
                              max_tokens=max_tokens, signal=signal)
        out = []
        for task in tasks:
            out.append(router.run(task.prompt, force=force))
            if force == "local":  # the baseline records the cascade's signal too
                out[-1].confidence = answer_confidence(local.last_logprobs or [])
            if progress:
                progress(name, task.id)
        return out

    local.record_logprobs = True  # for the all-local baseline's answer confidences
    all_local = run("all local", "local", "router", threshold)
    local.record_logprobs = False
    all_cloud = run("all cloud", "cloud", "router", threshold)
    routed = run("routed", None, "router", threshold)
    cascade = run("cascade", None, "self", self_threshold)
    runs = {s.name: s for s in (summarise("all local", tasks, all_local), summarise("routed", tasks, routed),
                                summarise("cascade", tasks, cascade), summarise("all cloud", tasks, all_cloud))}
    per_task = [{"id": t.id, "kind": t.kind, "p_simple": round(r.confidence, 3),
                 "answer_confidence": round(lo.confidence, 3), "routed": r.route, "cascade": c.route,
                 "local_correct": t.is_correct(lo.answer), "local_answer": lo.answer[:80]}
                for t, r, c, lo in zip(tasks, routed, cascade, all_local)]
    agreement = statistics.fmean((r.confidence >= threshold) == (t.kind == "routine") for t, r in zip(tasks, routed))
    table = (sweep("router", [r.confidence for r in routed], tasks, all_local, all_cloud, local_always_runs=False)
             + sweep("self", [lo.confidence for lo in all_local], tasks, all_local, all_cloud,
                     local_always_runs=True))
    return RoutingBench("smollm2-135m", local_name, {"router": threshold, "self": self_threshold}, budget,
                        cost.to_dict(), runs, per_task, agreement, table)
