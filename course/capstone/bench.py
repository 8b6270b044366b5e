"""``course bench capstone``: the reference agents measured end to end (lesson 11).

Each agent on its public tasks, for each model on llama.cpp: alone (no
cloud), with the fake cloud for hard questions, and with the cloud cut (the
offline run), all with the guided loop; then alone with lesson 00's free
loop, for comparison. With ``runtimes``, each agent alone on the guided loop
on the other runtimes the course runs (lesson 04): ONNX Runtime GenAI (the
models with a prepared ONNX form) and MLX.
Each configuration in one process, the model loaded once; the peak resident
memory of the process during each configuration is read from
``/proc/self/status`` (``VmHWM``, started again before each one).
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


def _runtime_backend(runtime: str, model: str):
    if runtime == "llama.cpp":
        from ..backends.llama_cpp import LlamaCppBackend

        return LlamaCppBackend(model, reuse_prefix=True, shared=False)  # close() frees it
    if runtime == "onnxruntime-genai":
        from ..backends.onnx_genai import OnnxGenAIBackend

        return OnnxGenAIBackend(model)
    if runtime == "mlx":
        from ..backends.mlx_gguf import MlxBackend

        return MlxBackend(model)
    raise ValueError(f"unknown runtime {runtime!r}: llama.cpp, onnxruntime-genai or mlx")


# MLX on Linux took 60 to 70 s per task here (lesson 04: it reaches a small share of the roofline on a CPU):
# its rows run the first tasks only, and say how many
SLOW_RUNTIME_TASKS = {"mlx": 3}


def reset_peak_rss() -> None:
    """Start the process's peak resident memory (VmHWM) again from its current size (Linux)."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        pass


def bench_capstone(models: list[str], *, limit: int | None = None, runtimes: tuple[str, ...] = ("llama.cpp",),
                   progress: Callable[[str], None] | None = None) -> dict:
    say = progress or (lambda _: None)
    rows = []
    for model in models if "llama.cpp" in runtimes else ():
        local = _runtime_backend("llama.cpp", model)
        for agent, (_, handoff, tools) in AGENTS.items():
            tasks = load_tasks(public_tasks(agent), tools=set(tools))[:limit]
            for loop, cloud_mode in (("guided", "none"), ("guided", "fake cloud"), ("guided", "cloud cut"),
                                     ("free", "none")):
                say(f"{agent} on {model}, {loop} loop, cloud: {cloud_mode}")
                cloud = None if cloud_mode == "none" else TaskCloud(tasks, handoff)
                if cloud is not None and cloud_mode == "cloud cut":
                    cloud.online = False
                reset_peak_rss()
                summary = evaluate(agent, tasks, local, cloud=cloud, model=model, loop=loop).summary()
                rows.append(summary | {"runtime": "llama.cpp", "loop": loop, "cloud_mode": cloud_mode,
                                       "peak_rss_mib": peak_rss_mib()})
        local.close()
    for runtime in [r for r in runtimes if r != "llama.cpp"]:
        for model in models:
            try:
                local = _runtime_backend(runtime, model)
            except Exception as exc:  # noqa: BLE001 - a runtime or form missing here: say so in the data
                rows.append({"agent": "-", "model": model, "runtime": runtime, "skipped": str(exc)[:200]})
                continue
            for agent, (_, _, tools) in AGENTS.items():
                cap = min(x for x in (limit, SLOW_RUNTIME_TASKS.get(runtime)) if x) if (
                    limit or runtime in SLOW_RUNTIME_TASKS) else None
                tasks = load_tasks(public_tasks(agent), tools=set(tools))[:cap]
                say(f"{agent} on {model}, {runtime}")
                reset_peak_rss()
                summary = evaluate(agent, tasks, local, model=model).summary()
                rows.append(summary | {"runtime": runtime, "loop": "guided", "cloud_mode": "none",
                                       "peak_rss_mib": peak_rss_mib()})
            close = getattr(local, "close", None)
            if close:
                close()
    return {"runs": rows, "limit": limit, "runtimes": list(runtimes)}
