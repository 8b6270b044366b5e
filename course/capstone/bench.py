"""``course bench capstone``: the reference agents measured end to end (lesson 11).

Each agent on its public tasks, for each model: alone (no cloud), with the
fake cloud for hard questions, and with the cloud cut (the offline run), all
with the guided loop; then alone with lesson 00's free loop, for comparison.
Each configuration in one process, the model loaded once; the peak resident
memory of the process is read from ``/proc/self/status`` (``VmHWM``).
"""

from __future__ import annotations

from collections.abc import Callable

from .agents import AGENTS
from .cloud import TaskCloud
from .evaluate import evaluate
from .tasks import load_tasks, public_tasks


def peak_rss_mib() -> float | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def bench_capstone(models: list[str], *, limit: int | None = None,
                   progress: Callable[[str], None] | None = None) -> dict:
    from ..backends.llama_cpp import LlamaCppBackend

    say = progress or (lambda _: None)
    rows = []
    for model in models:
        local = LlamaCppBackend(model, reuse_prefix=True)
        for agent, (_, handoff, tools) in AGENTS.items():
            tasks = load_tasks(public_tasks(agent), tools=set(tools))[:limit]
            for loop, cloud_mode in (("guided", "none"), ("guided", "fake cloud"), ("guided", "cloud cut"),
                                     ("free", "none")):
                say(f"{agent} on {model}, {loop} loop, cloud: {cloud_mode}")
                cloud = None if cloud_mode == "none" else TaskCloud(tasks, handoff)
                if cloud is not None and cloud_mode == "cloud cut":
                    cloud.online = False
                summary = evaluate(agent, tasks, local, cloud=cloud, model=model, loop=loop).summary()
                rows.append(summary | {"loop": loop, "cloud_mode": cloud_mode, "peak_rss_mib": peak_rss_mib()})
        local.close()
    return {"runs": rows, "limit": limit}
