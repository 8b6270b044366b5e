"""``course bench limits``: memory limits and deadlines on the real models (lesson 10).

Three measurements, each model in child processes of its own (a process under
a limit is one you may lose):

1. *prediction*: how much address space a model takes once loaded and after
   its first generation, beside :func:`course.backends.memory_limit.check_fit`'s
   prediction, with contexts of 512 and 4096 tokens;
2. *limits*: the model loaded under ``RLIMIT_AS`` limits around its need,
   once with the course's check (refused before loading, or loaded) and once
   with ``COURSE_MEMORY_CHECK=off`` (what llama.cpp does by itself);
3. *deadlines*: an agent on the model, run within deadlines and token budgets
   by :func:`course.production.resources.run_within`: how it stopped, when,
   and how far past the deadline it took to stop.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable

MiB = 2**20
PROBE_PROMPT = "Write one sentence about the sea."


def _status() -> dict:
    out = {}
    with open("/proc/self/status") as status:
        for line in status:
            key = line.split(":")[0]
            if key in ("VmSize", "VmRSS", "Threads"):
                out[key] = int(line.split()[1])
    return out


def probe(alias: str, n_ctx: int, limit_mib: int | None) -> dict:
    """In this process: set the limit, load ``alias``, generate a few tokens; what happened, as a dict."""
    import resource

    from ..backends.llama_loader import llama_cpp_module, new_llama
    from ..backends.memory_limit import check_fit
    from ..models import model_path

    path = model_path(alias)
    llama_cpp_module()  # the libraries mapped before the baseline, as in any process that loads models
    import numpy  # noqa: F401

    before = _status()
    prediction = check_fit(path, n_ctx)
    if limit_mib:
        resource.setrlimit(resource.RLIMIT_AS, (limit_mib * MiB, limit_mib * MiB))
    result = {"alias": alias, "n_ctx": n_ctx, "limit_mib": limit_mib,
              "check": os.environ.get("COURSE_MEMORY_CHECK", "on"),
              "predicted_mib": round(prediction.address_space / MiB, 1),
              "predicted_resident_mib": round(prediction.resident / MiB, 1),
              "baseline_mib": round(before["VmSize"] / 1024, 1)}
    try:
        llm = new_llama(path, n_ctx=n_ctx)
        loaded = _status()
        llm.create_completion(PROBE_PROMPT, max_tokens=8)
        after = _status()
        result |= {"outcome": "loaded", "grown_load_mib": round((loaded["VmSize"] - before["VmSize"]) / 1024, 1),
                   "grown_mib": round((after["VmSize"] - before["VmSize"]) / 1024, 1),
                   "resident_mib": round((after["VmRSS"] - before["VmRSS"]) / 1024, 1)}
    except Exception as exc:  # the point: which error, with which words
        result |= {"outcome": type(exc).__name__, "message": str(exc)}
    return result


def _child(alias: str, n_ctx: int, limit_mib: int | None, check: bool, timeout: float = 300) -> dict:
    env = dict(os.environ, COURSE_MEMORY_CHECK="on" if check else "off")
    proc = subprocess.run([sys.executable, "-m", __name__, alias, str(n_ctx), str(limit_mib or 0)],
                          capture_output=True, text=True, env=env, timeout=timeout)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        from ..child import tail

        signal = -proc.returncode if proc.returncode < 0 else None
        log = proc.stdout + proc.stderr
        said = [line.strip() for line in log.splitlines() if "GGML_ASSERT" in line or "Error" in line]
        return {"alias": alias, "n_ctx": n_ctx, "limit_mib": limit_mib, "check": "on" if check else "off",
                "outcome": f"killed by signal {signal}" if signal else f"exit {proc.returncode}",
                "message": said[0].split("/")[-1] if said else tail(log, 3)}
    return json.loads(lines[-1])


def deadline_runs(alias: str, cases: list[tuple[float | None, int | None]]) -> list[dict]:
    """An agent with one tool on ``alias``, run within each (deadline_s, max_tokens)."""
    from ..agent import Agent
    from ..backends.llama_cpp import LlamaCppBackend
    from ..tools import tool
    from .resources import Budget, run_within

    @tool
    def stock(product: str) -> str:
        """How many of a product the shop has in stock."""
        return f"{product}: 12 in stock"

    backend = LlamaCppBackend(alias)
    agent = Agent(backend, [stock], max_tokens=96, instructions="You are a shop assistant. Use the tool, then "
                  "answer in detail.")
    agent.run("How many kettles are in stock?")  # warm: the model is loaded before any clock starts
    rows = []
    for deadline_s, max_tokens in cases:
        budget = Budget(deadline_s=deadline_s, max_tokens=max_tokens)
        start = time.monotonic()
        result = run_within(agent, "How many kettles are in stock? Then describe kettles in detail.", budget)
        elapsed = time.monotonic() - start
        rows.append({"deadline_s": deadline_s, "max_tokens": max_tokens, "stop_reason": result.stop_reason,
                     "elapsed_s": round(elapsed, 3), "calls": budget.calls, "tokens": budget.used_tokens,
                     "past_deadline_ms": round((elapsed - deadline_s) * 1000, 1) if deadline_s else None,
                     "error": result.error, "answer": (result.answer or "")[:120]})
    backend.close()
    return rows


def bench_limits(models: list[str], progress: Callable[[str], None] | None = None) -> dict:
    say = progress or (lambda _: None)
    out: dict = {"prediction": [], "limits": [], "deadlines": {}}
    for alias in models:
        for n_ctx in (512, 4096):
            say(f"{alias}: address space with a context of {n_ctx}")
            out["prediction"].append(_child(alias, n_ctx, None, check=True))
        need = next(r for r in out["prediction"] if r["alias"] == alias and r["n_ctx"] == 4096)
        base = need["baseline_mib"]
        # well below the need; above what was measured but below the prediction (the check is cautious: it
        # refuses what would have fitted); just above the prediction
        grown = need.get("grown_mib", need["predicted_mib"])
        for limit in sorted({int(base + grown * 0.5), int(base + grown * 0.7),
                             int(base + (grown + need["predicted_mib"]) / 2),
                             int(base + need["predicted_mib"] + 16)}):
            for check in (True, False):
                say(f"{alias}: RLIMIT_AS {limit} MiB, check {'on' if check else 'off'}")
                out["limits"].append(_child(alias, 4096, limit, check=check))
        say(f"{alias}: an agent within deadlines and token budgets")
        out["deadlines"][alias] = deadline_runs(alias, [(None, None), (60.0, None), (3.0, None), (1.0, None),
                                                        (None, 8)])
    return out


if __name__ == "__main__":
    name, n_ctx, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    print(json.dumps(probe(name, n_ctx, limit or None)), flush=True)
