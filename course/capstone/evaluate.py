"""Evaluate an agent on a task file: success, tool-call accuracy, refusals, latency, tokens, cost (lesson 11).

:func:`evaluate` runs every task on a fresh agent (its own world: bookings and
hand-offs do not leak between tasks) and scores it:

- **success**: every expected tool call made, the answer passes its checks,
  no forbidden tool called, a refusal where one is required, a hand-off
  where one is required, and no crash;
- **tool-call accuracy**: the share of expected calls made (arguments
  compared after normalising);
- **latency** of the whole run (p50/p95), with the fake cloud's *assumed*
  latency added for the calls it answered;
- **tokens** local and cloud, and **cost** at lesson 05's *assumed* prices;
- **personal data**: for the clinic, whether any reached the cloud (as the
  cloud received it), the audit log or the answer (lesson 10's redactor
  looks for it, with the names the request introduces);
- **offline reliability** (:func:`offline_reliability`): the same tasks with
  the cloud cut.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ..observability import percentile
from ..production.redact import Redactor
from ..routing.cost import CloudPrice, LocalPrice
from .agents import AGENTS, introduced_names
from .tasks import Task, answer_ok, call_matches, refused, tool_accuracy


@dataclass
class TaskResult:
    id: str
    category: str
    hard: bool
    success: bool
    tool_accuracy: float
    failures: list[str]
    answer: str
    calls: list[list]  # [name, arguments]
    seconds: float
    local_tokens: list[int]  # prompt, completion
    cloud_tokens: list[int]
    cloud_calls: int
    refused: bool
    handed_off: bool
    leaked: list[str] = field(default_factory=list)  # personal data that reached the cloud or a log
    error: str = ""


def _calls(result) -> list[tuple[str, dict]]:
    out = []
    for step in result.trace.tool_steps:
        try:
            args = json.loads(step.call.arguments or "{}")
        except (json.JSONDecodeError, TypeError):
            args = {"_unparsed": step.call.arguments}
        out.append((step.call.name, args if isinstance(args, dict) else {"_value": args}))
    return out


def score(task: Task, answer: str, calls: list[tuple[str, dict]], handoff_tool: str, error: str = "") -> tuple[
        bool, float, list[str], bool, bool]:
    """(success, tool accuracy, why it failed, refused, handed off) of one run of ``task``."""
    failures = []
    accuracy = tool_accuracy(task.expected_tools, calls)
    if error:
        failures.append(f"the run broke: {error}")
    missing = [c.name for c in task.expected_tools if not any(call_matches(c, n, a) for n, a in calls)]
    if missing:
        failures.append(f"expected call(s) not made: {', '.join(missing)}")
    forbidden = sorted({n for n, _ in calls if n in task.forbidden_tools})
    if forbidden:
        failures.append(f"forbidden call(s): {', '.join(forbidden)}")
    handed_off = any(n == handoff_tool for n, _ in calls)
    did_refuse = refused(answer) or (handed_off and task.must_refuse)
    if task.must_refuse and not did_refuse:
        failures.append("it had to refuse and did not")
    if task.must_handoff and not handed_off:
        failures.append(f"it had to call {handoff_tool} and did not")
    if not answer_ok(task, answer) and not (task.must_refuse and did_refuse and not task.contains_all):
        failures.append("the answer misses what it should say (or says what it must not)")
    return not failures, accuracy, failures, did_refuse, handed_off


def _leaks(world, cloud, answer: str, redactor: Redactor) -> list[str]:
    """Kinds of personal data found in what reached the cloud, in the audit log, or in the answer."""
    texts = [answer]
    for received in getattr(cloud, "received", []):
        texts += [m.get("content") or "" for m in received if isinstance(m.get("content"), str)]
    audit = getattr(world, "audit", None)
    if audit is not None:
        texts += [e.arguments + " " + e.detail for e in audit.entries()]
    return sorted({f"{f.kind}" for text in texts for f in redactor.find(text)})


def run_task(agent_name: str, task: Task, local, cloud=None, *, names: Sequence[str] = (),
             loop: str = "guided", build: Callable | None = None, check_privacy: bool | None = None) -> TaskResult:
    """One task on a fresh agent. ``build(local, cloud=...) -> (agent, world)`` replaces the reference agent
    named ``agent_name`` (whose hand-off tool and privacy check still apply): a capstone project's agent."""
    make, handoff_tool, _ = AGENTS[agent_name]
    agent, world = build(local, cloud=cloud) if build is not None else make(local, cloud=cloud, loop=loop)
    route_log = getattr(agent.backend, "log", [])
    cloud_before = getattr(cloud, "assumed_seconds", 0.0)
    start = time.perf_counter()
    error, answer, calls, steps = "", "", [], []
    try:
        result = agent.run(task.input)
        answer, calls, steps = result.answer or "", _calls(result), result.trace.model_steps
    except Exception as exc:  # noqa: BLE001 - a crash is a failed task, recorded with its reason
        error = f"{type(exc).__name__}: {exc}"
        trace = getattr(exc, "trace", None)
        steps = trace.model_steps if trace is not None else []
    seconds = time.perf_counter() - start
    routes = [r.route for r in route_log]
    local_tokens, cloud_tokens, cloud_calls = [0, 0], [0, 0], 0
    for i, step in enumerate(steps):
        usage = step.response.usage
        side = routes[i] if i < len(routes) else "local"
        bucket = cloud_tokens if side == "cloud" else local_tokens
        bucket[0] += usage.prompt_tokens
        bucket[1] += usage.completion_tokens
        cloud_calls += side == "cloud"
    if cloud is not None:  # the fake cloud's assumed latency, not slept
        seconds += getattr(cloud, "assumed_seconds", 0.0) - cloud_before
    success, accuracy, failures, did_refuse, handed_off = score(task, answer, calls, handoff_tool, error)
    known = [*names, *introduced_names(task.input)]  # the names the patient gave are personal data too
    check = agent_name == "clinic" if check_privacy is None else check_privacy
    leaked = _leaks(world, cloud, answer, Redactor(names=known)) if check else []
    if leaked:
        success = False
        failures.append(f"personal data reached the cloud or the log: {', '.join(leaked)}")
    close = getattr(agent.backend, "close", None)
    if close and agent.backend is not local:
        close()
    return TaskResult(task.id, task.category, task.hard, success, accuracy, failures, answer,
                      [[n, a] for n, a in calls], seconds, local_tokens, cloud_tokens, cloud_calls, did_refuse,
                      handed_off, leaked, error)


@dataclass
class EvalReport:
    agent: str
    model: str
    cloud: str  # "none", "fake-cloud", "fake-cloud (cut)"
    results: list[TaskResult]
    tasks: list[Task]
    cloud_price: CloudPrice = field(default_factory=CloudPrice)
    local_price: LocalPrice = field(default_factory=LocalPrice)

    def summary(self) -> dict[str, Any]:
        r = self.results
        n = len(r)
        rate = (lambda items: round(sum(x.success for x in items) / len(items), 3) if items else None)
        seconds = [x.seconds for x in r]
        cloud_in = sum(x.cloud_tokens[0] for x in r)
        cloud_out = sum(x.cloud_tokens[1] for x in r)
        categories = sorted({x.category for x in r})
        pairs = list(zip(r, self.tasks))
        return {
            "agent": self.agent, "model": self.model, "cloud": self.cloud, "tasks": n,
            "success_rate": rate(r),
            "success_routine": rate([x for x in r if not x.hard]), "success_hard": rate([x for x in r if x.hard]),
            "tool_accuracy": round(sum(x.tool_accuracy for x in r) / n, 3) if n else None,
            "crashes": sum(bool(x.error) for x in r),
            "refusal_rate_where_required": _share([x.refused for x, t in pairs if t.must_refuse]),
            "handoff_rate_where_required": _share([x.handed_off for x, t in pairs if t.must_handoff]),
            "refusals_where_not_required": sum(x.refused for x, t in pairs if not t.must_refuse),
            "latency_p50_s": round(percentile(seconds, 50), 3) if r else None,
            "latency_p95_s": round(percentile(seconds, 95), 3) if r else None,
            "local_tokens": [sum(x.local_tokens[0] for x in r), sum(x.local_tokens[1] for x in r)],
            "cloud_tokens": [cloud_in, cloud_out],
            "cloud_calls": sum(x.cloud_calls for x in r),
            "cloud_cost_usd": round(self.cloud_price.cost(cloud_in, cloud_out), 6),
            "local_cost_usd": round(self.local_price.cost(sum(seconds)), 6),
            "personal_data_leaks": sum(bool(x.leaked) for x in r),
            "by_category": {c: rate([x for x in r if x.category == c]) for c in categories},
        }

    def to_dict(self) -> dict:
        return {"summary": self.summary(), "results": [asdict(x) for x in self.results],
                "prices": {"cloud": asdict(self.cloud_price), "local": asdict(self.local_price)}}


def _share(flags: list[bool]) -> float | None:
    return round(sum(flags) / len(flags), 3) if flags else None


def evaluate(agent_name: str, tasks: list[Task], local, *, cloud=None, model: str = "",
             progress: Callable[[TaskResult], None] | None = None, names: Sequence[str] = (),
             loop: str = "guided", build: Callable | None = None, check_privacy: bool | None = None) -> EvalReport:
    """Run every task; ``cloud`` (a :class:`~course.capstone.cloud.TaskCloud` or a real backend) for escalation."""
    if agent_name not in AGENTS:
        raise ValueError(f"unknown agent {agent_name!r}: the reference agents are {', '.join(AGENTS)}")
    results = []
    for task in tasks:
        results.append(run_task(agent_name, task, local, cloud, names=names, loop=loop, build=build,
                                check_privacy=check_privacy))
        if progress:
            progress(results[-1])
    label = "none" if cloud is None else (cloud.model + ("" if getattr(cloud, "online", True) else " (cut)"))
    return EvalReport(agent_name, model or getattr(local, "model", ""), label, results, list(tasks))


def offline_reliability(online: EvalReport, offline: EvalReport) -> dict[str, Any]:
    """The same tasks with the cloud reachable and cut: success both ways, and crashes when it was cut."""
    a, b = online.summary(), offline.summary()
    return {"success_online": a["success_rate"], "success_offline": b["success_rate"],
            "crashes_offline": b["crashes"], "kept": round(b["success_rate"] / a["success_rate"], 3)
            if a["success_rate"] else None}
