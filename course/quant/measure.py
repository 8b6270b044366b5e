"""Measure one GGUF file on llama.cpp: load time, prompt and generation speed, perplexity, memory.

Run in a child process per file (``python -m course.quant.measure FILE``) so
that each measurement starts from a fresh process: its resident memory after
loading belongs to that file alone, and a file that crashes llama.cpp costs one row of
the table, not the run. Prints one JSON object.

Perplexity follows llama.cpp's convention: windows of ``n_ctx`` tokens moved
``n_ctx / 2`` at a time, scoring only each window's second half, so every
scored token sees at least ``n_ctx / 2`` tokens of context. It is
``exp(mean negative log-likelihood)`` of the scored tokens: 1 would be a
model that is certain and right every time; a model guessing uniformly over
its vocabulary would score the vocabulary size.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from importlib import resources
from pathlib import Path

import numpy as np

from ..observability import peak_resident_bytes, resident_bytes


def eval_text() -> str:
    """The evaluation text the course ships (written for it, so no model has trained on it)."""
    return resources.files("course.data").joinpath("eval_text.txt").read_text(encoding="utf-8")


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    z = logits.astype(np.float64)
    z -= z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def perplexity(llm, tokens: list[int], n_ctx: int) -> tuple[float, int]:
    """Perplexity of ``tokens`` under ``llm`` (created with ``logits_all=True``) and the tokens scored."""
    half = n_ctx // 2
    nll, scored = 0.0, 0
    start = 0
    while True:
        window = tokens[start:start + n_ctx]
        if len(window) < 2:
            break
        llm.reset()
        llm.eval(window)
        logp = _log_softmax(np.asarray(llm.scores[:len(window)]))
        first = 0 if start == 0 else half  # the first window scores everything it can
        for i in range(first, len(window) - 1):
            nll -= logp[i, window[i + 1]]
            scored += 1
        if start + n_ctx >= len(tokens):
            break
        start += half
    return math.exp(nll / scored), scored


def _rss_mib() -> float:
    """Resident memory of this process now (Linux /proc; the peak so far where /proc cannot be read)."""
    return (resident_bytes() or peak_resident_bytes()) / 2**20


def measure(path: str | Path, threads: int = 2, n_ctx: int = 512, gen_tokens: int = 64,
            loads: int = 3, text: str | None = None) -> dict:
    from ..backends.llama_loader import new_llama

    path = Path(path)
    text = text or eval_text()
    load_times = []
    for _ in range(loads):  # the first load may read from disk; the median is the steady figure
        t0 = time.perf_counter()
        llm = new_llama(path, n_ctx=n_ctx, n_threads=threads, n_batch=n_ctx, n_threads_batch=os.cpu_count() or 1)
        load_times.append(time.perf_counter() - t0)
        if len(load_times) < loads:
            llm.close()
    rss = _rss_mib()
    tokens = llm.tokenize(text.encode("utf-8"), add_bos=True)

    # prompt processing: one full window, timed (median of 3)
    prompt = tokens[:n_ctx]
    prompt_times = []
    for _ in range(3):
        llm.reset()
        t0 = time.perf_counter()
        llm.eval(prompt)
        prompt_times.append(time.perf_counter() - t0)

    # generation: greedy, one token at a time after a short prompt, never stopping at end-of-text
    llm.reset()
    llm.eval(tokens[:32])
    t0 = time.perf_counter()
    for _ in range(gen_tokens):
        nxt = int(np.argmax(llm.scores[llm.n_tokens - 1]))
        llm.eval([nxt])
    gen_time = time.perf_counter() - t0
    llm.close()

    # perplexity needs the logits of every position: a second instance that keeps them all
    llm = new_llama(path, n_ctx=n_ctx, n_threads=threads, n_batch=n_ctx, logits_all=True,
                    n_threads_batch=os.cpu_count() or 1)
    ppl, scored = perplexity(llm, tokens, n_ctx)
    llm.close()
    return {
        "file": str(path),
        "file_bytes": path.stat().st_size,
        "load_s": float(np.median(load_times)),
        "prompt_tokens_per_s": len(prompt) / float(np.median(prompt_times)),
        "gen_tokens_per_s": gen_tokens / gen_time,
        "perplexity": ppl,
        "scored_tokens": scored,
        "rss_after_load_mib": rss,
        "threads": threads,
        "n_ctx": n_ctx,
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n-ctx", type=int, default=512)
    ap.add_argument("--gen-tokens", type=int, default=64)
    ap.add_argument("--text-file")
    a = ap.parse_args(argv)
    text = Path(a.text_file).read_text(encoding="utf-8") if a.text_file else None
    json.dump(measure(a.file, a.threads, a.n_ctx, a.gen_tokens, text=text), sys.stdout)


if __name__ == "__main__":
    main()
