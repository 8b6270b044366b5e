"""Three runtimes, one model, the same token ids: ``course bench runtimes``.

SmolLM2-135M-Instruct runs here on:

* **llama.cpp** (llama-cpp-python): the shipped GGUF file, Q4_1 weights;
* **ONNX Runtime GenAI**: the int4 ONNX form built from the same weights
  (``course models prepare smollm2-135m --form onnx``), MatMulNBits kernels;
* **plain ONNX Runtime**: the same ``model.onnx``, driven by the course's own
  greedy loop (:func:`course.runtimes.ort_decode.greedy_decode`): what GenAI
  adds over a dozen lines of Python;
* **Apple MLX** (``mlx[cpu]``): the shipped GGUF file again, its Q4_1 tensors
  kept quantized in MLX's affine layout (:mod:`course.runtimes.mlx_layout`).

Every runtime is given the same prompt token ids (rendered once by the
model's chat template through llama.cpp) and decodes greedily with its own
argmax, each in a child process of its own so that its load time and
resident memory are its alone. Per runtime: load time, time to first token,
prompt tokens/s, decode tokens/s after the first token, resident memory
added, bytes read per generated token (weights plus the KV cache at the
middle of the reply), the roofline those bytes allow at the memory bandwidth
measured in the same run, and for how many tokens its output agrees with
llama.cpp's. The two quantizations differ (Q4_1 with a Q8_0 embedding table
against int4 with per-32 float scales), so once two runtimes choose a
different token at a near tie, the rest of their replies differ too.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..child import run_python

RUNTIMES = ("llama.cpp", "onnxruntime-genai", "onnxruntime", "mlx")
# The runtime each needs beyond the course's own dependencies: the extra that brings it.
EXTRAS = {"onnxruntime-genai": "foundry-prepare", "onnxruntime": "foundry-prepare", "mlx": "mlx"}
PROMPT = "Explain in three sentences why small language models suit edge devices."
THREADS = 2


# --- in the child ----------------------------------------------------------------------------------------

@dataclass
class Timeline:
    """When a generation started and when each of its tokens was known."""

    start: float
    times: list[float]
    tokens: list[int]

    def figures(self, n_prompt: int) -> dict:
        first = self.times[0] - self.start
        rest = self.times[-1] - self.times[0]
        return {"ttft_s": first, "prompt_tokens_per_s": n_prompt / first,
                "decode_tokens_per_s": (len(self.times) - 1) / rest if rest > 0 else None, "tokens": self.tokens}


def _run_llama(model: str, ids: list[int], n: int) -> Callable[[], Timeline]:
    import numpy as np

    from ..backends.llama_loader import last_logits, new_llama
    from ..models import model_path

    llm = new_llama(model_path(model), n_ctx=2048, n_threads=THREADS)

    def generate() -> Timeline:
        llm.reset()
        start, times, tokens = time.perf_counter(), [], []
        llm.eval(ids)
        while len(tokens) < n:
            if tokens:
                llm.eval([tokens[-1]])
            tokens.append(int(np.argmax(last_logits(llm))))
            times.append(time.perf_counter())
        return Timeline(start, times, tokens)

    return generate


def _run_genai(model: str, ids: list[int], n: int) -> Callable[[], Timeline]:
    import onnxruntime_genai as og

    from ..backends.onnx_genai import onnx_folder

    config = og.Config(str(onnx_folder(model)))
    config.clear_providers()
    config.overlay(json.dumps({"model": {"decoder": {"session_options": {
        "intra_op_num_threads": THREADS, "inter_op_num_threads": 1}}}}))
    onnx_model = og.Model(config)

    def generate() -> Timeline:
        params = og.GeneratorParams(onnx_model)
        params.set_search_options(max_length=len(ids) + n, min_length=len(ids) + n, do_sample=False)
        generator = og.Generator(onnx_model, params)
        start, times, tokens = time.perf_counter(), [], []
        generator.append_tokens(ids)
        while len(tokens) < n:
            generator.generate_next_token()
            tokens.append(int(generator.get_next_tokens()[0]))
            times.append(time.perf_counter())
        del generator
        return Timeline(start, times, tokens)

    return generate


class _TimedSession:
    """An ``InferenceSession`` that notes when each ``run`` ends: a token is known then."""

    def __init__(self, session):
        self.session, self.ends = session, []

    def get_inputs(self):
        return self.session.get_inputs()

    def get_outputs(self):
        return self.session.get_outputs()

    def run(self, names, feed):
        out = self.session.run(names, feed)
        self.ends.append(time.perf_counter())
        return out


def _run_ort(model: str, ids: list[int], n: int) -> Callable[[], Timeline]:
    from ..backends.onnx_genai import onnx_folder
    from .ort_decode import genai_head_size, greedy_decode, open_session

    folder = onnx_folder(model)
    session = open_session(folder, threads=THREADS)
    head_size = genai_head_size(folder)

    def generate() -> Timeline:
        timed = _TimedSession(session)
        start = time.perf_counter()
        tokens = greedy_decode(timed, ids, n, head_size)
        return Timeline(start, timed.ends[:len(tokens)], tokens)

    return generate


def _run_mlx(model: str, ids: list[int], n: int) -> Callable[[], Timeline]:
    from ..backends.mlx_gguf import load_gguf_model, mlx_modules
    from ..models import model_path

    mx, _, _, cache_module = mlx_modules()
    net, _ = load_gguf_model(model_path(model))

    def generate() -> Timeline:
        cache = cache_module.make_prompt_cache(net)
        start, times, tokens = time.perf_counter(), [], []
        logits = net(mx.array([ids]), cache=cache)[:, -1, :]
        while len(tokens) < n:
            if tokens:
                logits = net(mx.array([[tokens[-1]]]), cache=cache)[:, -1, :]
            tokens.append(int(mx.argmax(logits, axis=-1).item()))  # .item() forces MLX's lazy evaluation
            times.append(time.perf_counter())
        return Timeline(start, times, tokens)

    return generate


LOADERS = {"llama.cpp": _run_llama, "onnxruntime-genai": _run_genai, "onnxruntime": _run_ort, "mlx": _run_mlx}


def measure(runtime: str, model: str, ids: list[int], n: int, repeats: int) -> dict:
    """In the child: load, one warm-up generation, then ``repeats`` timed ones; medians and the tokens."""
    from ..observability import resident_bytes

    before = resident_bytes() or 0
    start = time.perf_counter()
    generate = LOADERS[runtime](model, ids, n)
    load_s = time.perf_counter() - start
    loaded = resident_bytes() or 0
    generate()  # warm-up: first-call allocations and page faults
    runs = [generate().figures(len(ids)) for _ in range(repeats)]
    after = resident_bytes() or 0
    keys = ("ttft_s", "prompt_tokens_per_s", "decode_tokens_per_s")
    return {"runtime": runtime, "load_s": load_s, "rss_loaded": loaded - before, "rss_after_runs": after - before,
            **{k: statistics.median(r[k] for r in runs if r[k] is not None) for k in keys},
            "decode_spread": [min(r["decode_tokens_per_s"] or 0 for r in runs),
                              max(r["decode_tokens_per_s"] or 0 for r in runs)],
            "tokens": runs[-1]["tokens"]}


# --- in the parent ---------------------------------------------------------------------------------------

def prompt_ids(model: str) -> list[int]:
    """The benchmark prompt through the model's chat template, as llama.cpp tokenizes it."""
    from ..backends.llama_loader import chat_formatter, new_llama
    from ..models import model_path

    vocab = new_llama(model_path(model), n_ctx=64, vocab_only=True)
    try:
        text = chat_formatter(vocab)(messages=[{"role": "user", "content": PROMPT}]).prompt
        return vocab.tokenize(text.encode(), add_bos=False, special=True)
    finally:
        vocab.close()


def available(runtime: str, model: str = "smollm2-135m") -> str | None:
    """Why ``runtime`` cannot run ``model`` here (the command that fixes it), or None."""
    import importlib.util

    from ..models.forms import is_prepared

    module = {"onnxruntime-genai": "onnxruntime_genai", "onnxruntime": "onnxruntime", "mlx": "mlx"}.get(runtime)
    if module and importlib.util.find_spec(module) is None:
        return f'needs the {EXTRAS[runtime]} extra: pip install -e ".[{EXTRAS[runtime]}]"'
    if runtime.startswith("onnxruntime") and not is_prepared(model, "onnx"):
        return f"needs the model's ONNX form: course models prepare {model} --form onnx"
    return None


def agreement(tokens: list[int], reference: list[int]) -> int:
    """How many tokens from the start two greedy replies share."""
    n = 0
    for a, b in zip(tokens, reference):
        if a != b:
            break
        n += 1
    return n


def bytes_read(runtime: str, model: str, position: int) -> float:
    """Bytes one generated token reads on ``runtime`` at ``position``: weights, plus that much KV cache."""
    from ..formats.memory import ModelShape
    from ..models import model_path
    from .roofline import bytes_per_token, tensor_table

    shape = ModelShape.from_gguf(model_path(model))
    # llama.cpp keeps its cache in f16; ONNX Runtime's past_key_values and MLX's cache are float32
    element = 2 if runtime == "llama.cpp" else 4
    kv = shape.layers * shape.kv_heads * (shape.head_size + shape.value_head_size) * element
    if runtime.startswith("onnxruntime"):
        from ..backends.onnx_genai import onnx_folder
        from .onnx_weights import onnx_tensor_table

        tensors = onnx_tensor_table(onnx_folder(model) / "model.onnx")
    else:
        tensors = tensor_table(model)
    return bytes_per_token(tensors, kv_bytes_per_position=kv, position=position)


def bench_runtimes(model: str = "smollm2-135m", *, max_tokens: int = 64, repeats: int = 3,
                   runtimes: tuple[str, ...] = RUNTIMES, progress: Callable[[str], None] | None = None) -> dict:
    """Every runtime in its own child process, the same prompt ids; the table ``course bench runtimes`` prints."""
    from .roofline import memory_bandwidth, roofline_tokens_per_s

    ids = prompt_ids(model)
    bandwidths = [memory_bandwidth()]
    rows, skipped = [], {}
    for runtime in runtimes:
        why = available(runtime, model)
        if why:
            skipped[runtime] = why
            continue
        if progress:
            progress(runtime)
        out, _ = run_python(["-m", "course.runtimes.compare", runtime, model, json.dumps(ids), str(max_tokens),
                             str(repeats)], what=f"measuring {runtime}", timeout=1800)
        rows.append(json.loads(out.strip().splitlines()[-1]))
    bandwidths.append(memory_bandwidth())
    bandwidth = max(bandwidths)
    reference = next((r["tokens"] for r in rows if r["runtime"] == "llama.cpp"), None)
    for row in rows:
        row["bytes_per_token"] = bytes_read(row["runtime"], model, len(ids) + max_tokens // 2)
        row["roofline_tokens_per_s"] = roofline_tokens_per_s(bandwidth, row["bytes_per_token"])
        row["roofline_fraction"] = (row["decode_tokens_per_s"] or 0) / row["roofline_tokens_per_s"]
        row["agrees_with_llama_cpp"] = agreement(row["tokens"], reference) if reference else None
    return {"model": model, "prompt": PROMPT, "prompt_tokens": len(ids), "max_tokens": max_tokens,
            "repeats": repeats, "threads": THREADS, "bandwidth_gb_s": bandwidth / 1e9,
            "bandwidth_runs_gb_s": [b / 1e9 for b in bandwidths], "rows": rows, "skipped": skipped,
            "cores": os.cpu_count()}


if __name__ == "__main__":
    _runtime, _model, _ids, _n, _repeats = sys.argv[1:6]
    print(json.dumps(measure(_runtime, _model, json.loads(_ids), int(_n), int(_repeats))))
