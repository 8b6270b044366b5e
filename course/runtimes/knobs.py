"""llama.cpp's knobs, what each one costs and buys, measured.

The ``Llama`` constructor takes a dozen settings that change speed and memory without
changing the answer (at temperature 0, up to rounding):

| knob | what it does |
| --- | --- |
| ``n_threads`` | threads for generation (``n_threads_batch``: for the prompt); the course sets both |
| ``n_batch`` / ``n_ubatch`` | tokens per logical / physical batch of the prompt: the compute buffer grows with ``n_ubatch`` |
| ``flash_attn`` | fused attention: the attention scores are never stored whole |
| ``type_k`` / ``type_v`` | the KV cache's element types (f16; q8_0 halves it); a quantized V cache needs ``flash_attn`` |
| ``n_ctx`` | context cells, rounded up to 256: the KV cache grows with it, and without flash attention so do the scores |
| ``use_mmap`` / ``use_mlock`` | map the file instead of reading it; lock its pages in memory |

:class:`Knobs` holds one setting of them, :func:`knob_problem` says what
llama.cpp would refuse (before a model is loaded), :func:`predict_buffers`
predicts the KV cache and the compute buffer llama.cpp will allocate, and
:func:`measure` loads the model in a child process with these knobs and
times a prompt and a generation, reading the buffers back from llama.cpp's
log. ``course bench knobs`` runs a table of settings interleaved, several
times, and reports medians beside the predictions.

**Threads when the cores are shared.** llama.cpp (built with OpenMP, as
llama-cpp-python builds it on Linux) synchronises its threads at a barrier
after every operation, hundreds of times per token. A thread that arrives
first spins while it waits. On two cores with another busy process, one of
the two threads is often not running at all, and the spinning one burns its
time slice waiting for it: the measured slowdown is many times over. The
course's default thread count (:func:`course.backends.llama_loader.default_threads`)
comes from what ``course bench knobs`` measures here.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace

from ..formats.memory import KV_CACHE_TYPE_IDS, KV_CACHE_TYPES, LLAMA_CPP_CTX_PAD, MiB, ModelShape, parse_llama_log

UNQUANTIZED = ("f32", "f16", "bf16")
PROMPT_TEXT = ("Small language models run on laptops, phones and gateways. They answer questions, call tools and "
               "summarise documents without sending data to a cloud service. ")


class KnobError(ValueError):
    """A setting llama.cpp would refuse; the message says which and what to change."""


@dataclass(frozen=True)
class Knobs:
    """One setting of llama.cpp's knobs (the ``Llama`` constructor's keywords of the same names)."""

    n_threads: int = 2
    n_ctx: int = 2048
    n_batch: int = 512
    n_ubatch: int = 512
    flash_attn: bool = False
    type_k: str = "f16"
    type_v: str = "f16"
    use_mmap: bool = True
    use_mlock: bool = False

    def llama_kwargs(self) -> dict:
        """The keywords for ``new_llama`` (cache types as ggml type ids)."""
        return {"n_threads": self.n_threads, "n_ctx": self.n_ctx, "n_batch": self.n_batch, "n_ubatch": self.n_ubatch,
                "flash_attn": self.flash_attn, "type_k": KV_CACHE_TYPE_IDS[self.type_k],
                "type_v": KV_CACHE_TYPE_IDS[self.type_v], "use_mmap": self.use_mmap, "use_mlock": self.use_mlock}


def knob_problem(knobs: Knobs) -> str | None:
    """What llama.cpp would refuse about ``knobs``, in one line with the fix, or None."""
    for name in ("type_k", "type_v"):
        value = getattr(knobs, name)
        if value not in KV_CACHE_TYPES:
            return f"{name}={value!r} is not a cache type llama.cpp knows: one of {', '.join(KV_CACHE_TYPES)}"
    if knobs.type_v not in UNQUANTIZED and not knobs.flash_attn:
        return (f"a quantized V cache (type_v={knobs.type_v}) needs flash_attn=True: llama.cpp refuses it otherwise "
                "('Failed to create llama_context'); turn flash attention on, or keep type_v f16")
    for name in ("n_threads", "n_ctx", "n_batch", "n_ubatch"):
        if getattr(knobs, name) < 1:
            return f"{name} must be at least 1, got {getattr(knobs, name)}"
    return None


def check_knobs(knobs: Knobs) -> Knobs:
    problem = knob_problem(knobs)
    if problem:
        raise KnobError(problem)
    return knobs


def effective_batches(knobs: Knobs) -> tuple[int, int, int]:
    """``(cells, n_batch, n_ubatch)`` as llama.cpp ends up using them.

    The context is rounded up to a multiple of 256 cells; llama-cpp-python
    caps ``n_batch`` at the ``n_ctx`` asked for, and llama.cpp caps
    ``n_ubatch`` at ``n_batch``.
    """
    cells = math.ceil(knobs.n_ctx / LLAMA_CPP_CTX_PAD) * LLAMA_CPP_CTX_PAD
    batch = min(knobs.n_batch, knobs.n_ctx)
    return cells, batch, min(knobs.n_ubatch, batch)


def predict_buffers(shape: ModelShape, knobs: Knobs) -> dict[str, float]:
    """The KV cache and compute buffer llama.cpp allocates for ``shape`` with ``knobs``, in bytes.

    * KV cache: per layer, KV head and cell, a key of ``head_size`` elements of
      ``type_k`` and a value of ``value_head_size`` elements of ``type_v``;
    * compute buffer: scratch for one micro-batch, reused from operation to
      operation, so its size is the largest thing alive at once: the logits
      (``n_ubatch * vocabulary`` floats) or, without flash attention, the
      attention scores (``heads * n_ubatch * cells`` floats) with their mask
      (``n_ubatch * cells`` floats). A few MiB of activations come on top.
    """
    check_knobs(knobs)
    cells, _, ubatch = effective_batches(knobs)
    kv = shape.layers * shape.kv_heads * cells * (shape.head_size * KV_CACHE_TYPES[knobs.type_k]
                                                  + shape.value_head_size * KV_CACHE_TYPES[knobs.type_v])
    logits = ubatch * shape.vocabulary * 4
    scores = 0 if knobs.flash_attn else (shape.heads + 1) * ubatch * cells * 4
    return {"kv_cache": float(kv), "compute": float(max(logits, scores))}


# --- measuring in a child process ------------------------------------------------------------------------

def prompt_tokens(llm, n: int) -> list[int]:
    """``n`` token ids of an ordinary English text, the same for every setting."""
    ids: list[int] = []
    while len(ids) < n:
        ids += llm.tokenize(PROMPT_TEXT.encode(), add_bos=not ids, special=False)
    return ids[:n]


def _measure_here(model_file: str, knobs: Knobs, n_prompt: int, n_gen: int) -> dict:
    """In the child: load with the log on, run the prompt, generate greedily; plain figures."""
    import numpy as np

    from ..backends.llama_loader import last_logits, new_llama
    from ..observability import resident_bytes

    kwargs = knobs.llama_kwargs()
    before = resident_bytes() or 0
    start = time.perf_counter()
    llm = new_llama(model_file, n_ctx=kwargs.pop("n_ctx"), n_threads=kwargs.pop("n_threads"), verbose=True, **kwargs)
    load_s = time.perf_counter() - start
    loaded = resident_bytes() or 0
    ids = prompt_tokens(llm, n_prompt)
    start = time.perf_counter()
    llm.eval(ids)
    prompt_s = time.perf_counter() - start
    token = int(np.argmax(last_logits(llm)))
    start = time.perf_counter()
    for _ in range(n_gen):
        llm.eval([token])
        token = int(np.argmax(last_logits(llm)))
    gen_s = time.perf_counter() - start
    llm.close()
    return {"load_s": load_s, "prompt_tokens_per_s": n_prompt / prompt_s, "gen_tokens_per_s": n_gen / gen_s,
            "rss_model": loaded - before}


def measure(model_file: str, knobs: Knobs, *, n_prompt: int = 400, n_gen: int = 64,
            env: dict[str, str] | None = None, timeout: float = 300) -> dict:
    """Load ``model_file`` with ``knobs`` in a child process; its speeds, and its buffers from llama.cpp's log (MiB).

    ``env`` adds environment variables for the child (``OMP_WAIT_POLICY``);
    a child that runs past ``timeout`` seconds is stopped and reported as such.
    """
    check_knobs(knobs)
    args = [sys.executable, "-m", "course.runtimes.knobs", model_file, json.dumps(asdict(knobs)), str(n_prompt),
            str(n_gen)]
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, **(env or {})})
    except subprocess.TimeoutExpired:
        return {"timed_out": True, "timeout_s": timeout}
    if proc.returncode != 0:
        from ..child import tail

        raise RuntimeError(f"measuring {knobs} failed (exit {proc.returncode}):\n{tail(proc.stdout + proc.stderr)}")
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    report = parse_llama_log(proc.stderr)
    figures.update(kv_cache_mib=report["kv_cache"], compute_mib=report["compute"],
                   mlock_failed="failed to mlock" in proc.stderr)
    return figures


# --- the table ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class KnobRow:
    """One row of ``course bench knobs``: a setting, optionally with a busy core beside it."""

    label: str
    knobs: Knobs
    busy: int = 0  # processes spinning on the cores meanwhile
    env: dict = field(default_factory=dict)

    def key(self) -> str:
        return self.label


BASE = Knobs()


def default_rows(threads: int = 2) -> list[KnobRow]:
    """The settings ``course bench knobs`` compares, each a change from the baseline."""
    base = replace(BASE, n_threads=threads)
    passive = {"OMP_WAIT_POLICY": "PASSIVE"}
    return [
        KnobRow("baseline", base),
        KnobRow("1 thread", replace(base, n_threads=1)),
        KnobRow("n_ubatch 64", replace(base, n_ubatch=64)),
        KnobRow("n_batch 64", replace(base, n_batch=64)),
        KnobRow("flash attention", replace(base, flash_attn=True)),
        KnobRow("flash attention, q8_0 K and V", replace(base, flash_attn=True, type_k="q8_0", type_v="q8_0")),
        KnobRow("q8_0 K, f16 V", replace(base, type_k="q8_0")),
        KnobRow("q8_0 V without flash attention", replace(base, type_v="q8_0")),
        KnobRow("n_ctx 8192", replace(base, n_ctx=8192)),
        KnobRow("mmap off", replace(base, use_mmap=False)),
        KnobRow("mlock on", replace(base, use_mlock=True)),
        KnobRow("OpenMP passive wait", base, env=passive),
        KnobRow("busy core: 2 threads", base, busy=1),
        KnobRow("busy core: 1 thread", replace(base, n_threads=1), busy=1),
        KnobRow("busy core: 2 threads, OpenMP passive wait", base, busy=1, env=passive),
    ]


@contextlib.contextmanager
def busy_cores(n: int) -> Iterator[None]:
    """``n`` processes that spin on the CPU until the block ends: another program using the cores."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        time.sleep(0.2 if procs else 0)
        yield
    finally:
        for p in procs:
            p.kill()
            p.wait()


def bench_knobs(model: str = "smollm2-135m", *, runs: int = 3, n_prompt: int = 400, n_gen: int = 64,
                rows: list[KnobRow] | None = None, timeout: float = 300,
                progress: Callable[[int, int], None] | None = None) -> dict:
    """Every row ``runs`` times, interleaved (all rows once, then again), each in a fresh child; medians.

    Rows with a busy core run as a block with the spinning processes started
    once per repetition. A row llama.cpp would refuse is reported with its
    reason and not run.
    """
    from ..models import model_path

    path = str(model_path(model))
    shape = ModelShape.from_gguf(path)
    rows = rows if rows is not None else default_rows()
    refused = {r.label: knob_problem(r.knobs) for r in rows if knob_problem(r.knobs)}
    todo = [r for r in rows if r.label not in refused]
    samples: dict[str, list[dict]] = {r.label: [] for r in todo}
    done, total = 0, runs * len(todo)
    for _ in range(runs):
        for busy in sorted({r.busy for r in todo}):
            with busy_cores(busy):
                for row in (r for r in todo if r.busy == busy):
                    samples[row.label].append(measure(path, row.knobs, n_prompt=n_prompt, n_gen=n_gen, env=row.env,
                                                      timeout=timeout))
                    done += 1
                    if progress:
                        progress(done, total)
    out = []
    for row in rows:
        entry = {"label": row.label, "knobs": asdict(row.knobs), "busy": row.busy, "env": row.env}
        if row.label in refused:
            out.append(entry | {"refused": refused[row.label]})
            continue
        runs_ok = [s for s in samples[row.label] if not s.get("timed_out")]
        predicted = predict_buffers(shape, row.knobs)
        entry |= {"runs": len(samples[row.label]), "timed_out": len(samples[row.label]) - len(runs_ok),
                  "predicted_kv_cache_mib": predicted["kv_cache"] / MiB,
                  "predicted_compute_mib": predicted["compute"] / MiB}
        if runs_ok:
            for key in ("load_s", "prompt_tokens_per_s", "gen_tokens_per_s", "rss_model", "kv_cache_mib",
                        "compute_mib"):
                values = [s[key] for s in runs_ok if s.get(key) is not None]
                entry[key] = statistics.median(values) if values else None
                if key.endswith("_per_s"):
                    entry[key + "_spread"] = [min(values), max(values)] if values else None
            entry["mlock_failed"] = any(s.get("mlock_failed") for s in runs_ok)
        out.append(entry)
    return {"model": model, "runs": runs, "n_prompt": n_prompt, "n_gen": n_gen, "cores": os.cpu_count(),
            "rows": out}


if __name__ == "__main__":
    _model, _knobs, _n_prompt, _n_gen = sys.argv[1:5]
    print(json.dumps(_measure_here(_model, Knobs(**json.loads(_knobs)), int(_n_prompt), int(_n_gen))))
