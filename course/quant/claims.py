"""The claims lab: the source material's quantization claims, each set beside a measured figure.

``course claims`` builds a ladder of real GGUF files from a shipped model
(:mod:`.ladder`), measures every file in a fresh child process
(:mod:`.measure`), caches the results, and gives each claim a verdict:

* **holds** / **does not hold**: a measured figure, and the rule that decides,
  both printed;
* **opinion**: advice that no figure can prove (which level suits a phone);
  the measured trade-off is shown beside it;
* **cannot be measured here**: a claim about hardware or models this machine
  does not have.

The rules are written down in :data:`RULES` so that a reader can disagree with
a threshold and see exactly what would change.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

from ..child import run_python
from ..formats import read_gguf, summarize
from ..formats.memory import SOURCE_SIZES_GB, size_table
from ..models import cache_dir, get_model, model_path
from ..plot import scatter_chart
from .ladder import BASELINE, DEFAULT_LEVELS, build_ladder

RULES = {
    "near_original": "perplexity within 1% of the F16 baseline",
    "about_half": "file size between 40% and 60% of the F16 file",
    "cuts_75": "file at most 30% of the F16 file (a cut of 70% or more: 75% give or take 5 points)",
    "under_500": "file smaller than 500 MB (10^6 bytes per MB)",
    "faster": "generation tokens per second higher, by more than 5% (the run-to-run noise seen here)",
}
MEASURE_VERSION = 1  # bump when measure() changes what it reports


def results_path(alias: str) -> Path:
    return cache_dir().parent / "claims" / f"{alias}.json"


def _measure_in_child(path: Path, threads: int, gen_tokens: int, text_file: str | None) -> dict:
    args = ["-m", "course.quant.measure", str(path), "--threads", str(threads), "--gen-tokens", str(gen_tokens)]
    if text_file:
        args += ["--text-file", text_file]
    stdout, _ = run_python(args, what=f"measuring {path.name} failed")
    return json.loads(stdout)


def _file_facts(path: Path) -> dict:
    info = summarize(read_gguf(path))
    return {"file_bytes": info["file_bytes"], "parameters": info["parameters"],
            "bits_per_weight": info["bits_per_weight"],
            "types": {t["type"]: round(t["share_of_file"], 4) for t in info["tensor_types"]}}


def run_claims(alias: str = "smollm2-135m", levels: list[str] | None = None, threads: int = 2,
               gen_tokens: int = 64, force: bool = False, text_file: str | None = None, progress=None) -> dict:
    """Build the ladder, measure each level (reusing cached measurements), and return the results."""
    levels = list(levels or DEFAULT_LEVELS)
    if BASELINE not in levels:  # every verdict compares with the baseline
        levels.insert(0, BASELINE)
    entry = get_model(alias)
    rungs = build_ladder(alias, levels, threads=threads, force=force, progress=progress)
    out = results_path(alias)
    cached = json.loads(out.read_text()) if out.exists() and not force else {}
    settings = {"threads": threads, "gen_tokens": gen_tokens, "text_file": text_file,
                "measure_version": MEASURE_VERSION}
    old = {r["level"]: r for r in [*cached.get("rungs", []), cached.get("shipped") or {"level": None}]} \
        if cached.get("settings") == settings else {}

    def measured(level: str, path: Path) -> dict:
        st = path.stat()
        stamp = [st.st_size, st.st_mtime_ns]
        if level in old and old[level].get("stamp") == stamp:
            return old[level]
        if progress:
            progress(f"measuring {alias} {level}")
        return {"level": level, "stamp": stamp, **_file_facts(path),
                **{k: v for k, v in _measure_in_child(path, threads, gen_tokens, text_file).items()
                   if k not in ("file", "file_bytes")}}

    rows = [{**measured(r.level, r.path), "fallback_tensors": r.fallback_tensors, "tensors": r.total_tensors}
            for r in rungs]
    shipped = measured(f"shipped {entry.quantization}", model_path(alias))
    import llama_cpp

    from ..backends.llama_loader import extra_bufts_decision

    results = {
        "model": alias, "title": entry.title, "shipped_quantization": entry.quantization,
        "baseline": BASELINE, "settings": settings,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "llama_cpp_python": llama_cpp.__version__,
                    "llama_extra_bufts": extra_bufts_decision().as_dict()},
        "measured_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        "rungs": rows, "shipped": shipped,
    }
    results["verdicts"] = verdicts(results)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    return results


# --- verdicts --------------------------------------------------------------------------------

def _verdict(claim: str, source: str, measured: str, verdict: str, rule: str = "") -> dict:
    return {"claim": claim, "source_says": source, "measured": measured, "verdict": verdict, "rule": rule}


def verdicts(results: dict) -> list[dict]:
    """One verdict per source claim, decided from ``results`` by the rules in :data:`RULES`."""
    by = {r["level"]: r for r in results["rungs"]}
    base = by.get(BASELINE)
    out = []
    model = results["model"]

    def rel_size(level: str) -> float:
        return by[level]["file_bytes"] / base["file_bytes"]

    def ppl_change(level: str) -> float:
        return by[level]["perplexity"] / base["perplexity"] - 1

    if base and "Q8_0" in by:
        size, dppl = rel_size("Q8_0"), ppl_change("Q8_0")
        ok_size = 0.40 <= size <= 0.60
        ok_ppl = abs(dppl) <= 0.01
        out.append(_verdict(
            "Q8_0 is near the original at about 50% of its size", "near-original quality, ~50% size",
            f"{size:.1%} of the F16 file; perplexity {by['Q8_0']['perplexity']:.2f} vs {base['perplexity']:.2f} "
            f"({dppl:+.2%})",
            "holds" if ok_size and ok_ppl else "does not hold",
            f"{RULES['about_half']}; {RULES['near_original']}"))
    if base and "Q4_0" in by:
        size = rel_size("Q4_0")
        out.append(_verdict(
            "Q4_0 cuts the size by 75%", "75% smaller",
            f"{1 - size:.1%} smaller than F16 ({by['Q4_0']['file_bytes'] / 1e6:.1f} MB vs "
            f"{base['file_bytes'] / 1e6:.1f} MB); perplexity {ppl_change('Q4_0'):+.1%}",
            "holds" if size <= 0.30 else "does not hold", RULES["cuts_75"]))
    if "Q2_K" in by:
        mb = by["Q2_K"]["file_bytes"] / 1e6
        out.append(_verdict(
            f"Q2_K is under 500 MB for small models ({model})", "under 500 MB",
            f"{mb:.1f} MB, {by['Q2_K']['bits_per_weight']:.2f} bits per weight; perplexity "
            f"{ppl_change('Q2_K'):+.1%} vs F16" if base else f"{mb:.1f} MB",
            "holds" if mb < 500 else "does not hold", RULES["under_500"]))
    speed_order = [lv for lv in ("Q4_K_M", "Q5_K_S", "Q8_0") if lv in by]
    if len(speed_order) == 3:
        g = {lv: by[lv]["gen_tokens_per_s"] for lv in speed_order}
        holds = g["Q4_K_M"] > g["Q5_K_S"] * 1.05 and g["Q5_K_S"] > g["Q8_0"] * 1.05
        out.append(_verdict(
            "Q4_K is faster than Q5_K, which is faster than Q8_0", "speed: Q4_K > Q5_K > Q8_0",
            ", ".join(f"{lv} {g[lv]:.0f} tok/s" for lv in speed_order) + " (generation, "
            f"{results['settings']['threads']} threads)",
            "holds" if holds else "does not hold", RULES["faster"]))
    for level, advice in (("Q4_K_M", "Q4_K_M for mobile devices"), ("Q5_K_S", "Q5_K_S for quality-focused edge use")):
        if level in by and base:
            r = by[level]
            out.append(_verdict(
                advice, advice,
                f"{r['file_bytes'] / 1e6:.1f} MB ({rel_size(level):.0%} of F16), perplexity "
                f"{ppl_change(level):+.1%}, {r['gen_tokens_per_s']:.0f} tok/s",
                "opinion", "advice, not a measurable claim: the trade-off is shown"))
    return out


def size_table_verdicts() -> list[dict]:
    """The source's model-size table, checked by arithmetic on public parameter counts."""
    rows = []
    for row in size_table():
        if "source_gb" not in row:
            continue
        rows.append(_verdict(
            f"{row['model']} is about {row['source_gb']} GB", f"{row['source_gb']} GB",
            f"{row['parameters'] / 1e9:.2f} B parameters: {row['source_gb']} GB means "
            f"{row['implied_bpw']:.1f} bits per weight, nearest level {row['nearest_level']}; at Q4_K (4.5 bits) "
            f"{row['sizes_gb']['Q4_K']:.2f} GB, at Q8_0 {row['sizes_gb']['Q8_0']:.2f} GB",
            f"holds at {row['nearest_level']}", "arithmetic on the model card's parameter count"))
    return rows


# --- per-device guidance ------------------------------------------------------------------------

# Device budgets are the course's assumptions (memory a model process may take, speed a user will
# wait for), not measurements: change them to match your device.
DEVICES: dict[str, dict] = {
    "edge board (assumed: 512 MB for the model process, 10 tok/s)": {"memory_mb": 512, "min_tok_s": 10},
    "phone (assumed: 1.5 GB for the model process, 15 tok/s)": {"memory_mb": 1536, "min_tok_s": 15},
    "laptop (assumed: 4 GB for the model process, 20 tok/s)": {"memory_mb": 4096, "min_tok_s": 20},
}
SOURCE_DEVICE_ADVICE = {"mobile": "Q4_K_M", "quality-focused edge": "Q5_K_S"}


def predicted_process_mb(rung: dict, shape, n_ctx: int) -> float:
    """Weights + KV cache + compute buffer of a rung, predicted with lesson 02's memory math (MB).

    ``shape`` is the shipped model's :class:`~course.formats.memory.ModelShape`: layers, heads and
    vocabulary do not change with the level, only the weights' bytes do.
    """
    from ..formats.memory import predict_memory

    est = predict_memory(shape, n_ctx)
    tensor_bytes = rung["bits_per_weight"] * rung["parameters"] / 8
    return (tensor_bytes + est.kv_cache + est.compute) / 1e6


def recommend(results: dict, memory_mb: float, min_tok_s: float, n_ctx: int = 2048) -> dict:
    """The level with the lowest perplexity that fits ``memory_mb`` and generates at ``min_tok_s`` or faster.

    Speed is what this machine measured; on a slower device, scale ``min_tok_s`` up accordingly.
    """
    from ..formats.memory import ModelShape

    shape = ModelShape.from_gguf(model_path(results["model"]))
    fits = []
    for r in results["rungs"]:
        mb = predicted_process_mb(r, shape, n_ctx)
        if mb <= memory_mb and r["gen_tokens_per_s"] >= min_tok_s:
            fits.append((r["perplexity"], r["file_bytes"], r["level"], mb))
    if not fits:
        return {"level": None, "reason": f"no level fits {memory_mb:.0f} MB at {min_tok_s} tok/s with a "
                                         f"{n_ctx}-token context: choose a smaller model, or a smaller n_ubatch (the compute "
                                         "buffer holds n_ubatch x vocabulary logits)"}
    ppl, size, level, mb = min(fits)
    return {"level": level, "perplexity": ppl, "predicted_mb": mb,
            "reason": f"lowest perplexity ({ppl:.2f}) among {len(fits)} levels that fit in {memory_mb:.0f} MB "
                      f"(needs about {mb:.0f} MB with a {n_ctx}-token context)"}


def device_guidance(results: dict, n_ctx: int = 2048) -> list[dict]:
    return [{"device": name, **recommend(results, d["memory_mb"], d["min_tok_s"], n_ctx)}
            for name, d in DEVICES.items()]


# --- presentation ----------------------------------------------------------------------------

def table_markdown(results: dict) -> str:
    """The measurements as a Markdown table (what the lesson page shows)."""
    head = ("| level | size (MB) | of F16 | bits/weight | main types | fallback tensors | load (s) | "
            "prompt tok/s | gen tok/s | perplexity | RSS (MiB) |\n|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    base = next((r for r in results["rungs"] if r["level"] == BASELINE), None)
    lines = [head]
    for r in [*results["rungs"], results["shipped"]]:
        types = ", ".join(f"{t} {s:.0%}" for t, s in list(r["types"].items())[:3])
        share = f"{r['file_bytes'] / base['file_bytes']:.0%}" if base else ""
        fb = f"{r['fallback_tensors']} of {r['tensors']}" if "fallback_tensors" in r else "(shipped file)"
        lines.append(f"| {r['level']} | {r['file_bytes'] / 1e6:.1f} | {share} | {r['bits_per_weight']:.2f} | {types} "
                     f"| {fb} | {r['load_s']:.2f} | {r['prompt_tokens_per_s']:.0f} | {r['gen_tokens_per_s']:.0f} "
                     f"| {r['perplexity']:.2f} | {r['rss_after_load_mib']:.0f} |")
    return "\n".join(lines) + "\n"


def verdicts_markdown(rows: list[dict]) -> str:
    lines = ["| claim | measured | verdict | rule |", "|---|---|---|---|"]
    for v in rows:
        lines.append(f"| {v['claim']} | {v['measured']} | **{v['verdict']}** | {v['rule']} |")
    return "\n".join(lines) + "\n"


def guidance_markdown(rows: list[dict]) -> str:
    lines = ["| device | level | why |", "|---|---|---|"]
    lines += [f"| {g['device']} | {g['level'] or 'none'} | {g['reason']} |" for g in rows]
    return "\n".join(lines) + "\n"


def plots(results: dict) -> dict[str, str]:
    """Two SVG figures: size against perplexity, size against generation speed."""
    pts = [(r["level"], r["file_bytes"] / 1e6, r) for r in results["rungs"]]
    name = results["model"]
    return {
        "size_vs_perplexity.svg": scatter_chart(
            [(lv, x, r["perplexity"]) for lv, x, r in pts],
            title=f"{name}: file size against perplexity (lower is better)",
            x_label="file size (MB)", y_label="perplexity on the course's text"),
        "size_vs_speed.svg": scatter_chart(
            [(lv, x, r["gen_tokens_per_s"]) for lv, x, r in pts],
            title=f"{name}: file size against generation speed ({results['settings']['threads']} threads)",
            x_label="file size (MB)", y_label="tokens per second", y_from_zero=True),
    }


def write_report(results: dict, folder: Path) -> list[Path]:
    """Write the results JSON, the two tables and the two figures into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    model = results["model"]
    files = {f"claims_{model}.json": json.dumps(results, indent=2) + "\n",
             f"claims_{model}_table.md": table_markdown(results),
             f"claims_{model}_verdicts.md": verdicts_markdown(results["verdicts"]),
             f"claims_{model}_devices.md": guidance_markdown(device_guidance(results))}
    files.update({f"{model}_{k}": v for k, v in plots(results).items()})
    written = []
    for name, text in files.items():
        (folder / name).write_text(text)
        written.append(folder / name)
    return written


__all__ = ["DEVICES", "RULES", "results_path", "SOURCE_DEVICE_ADVICE", "device_guidance", "guidance_markdown", "recommend", "SOURCE_SIZES_GB", "plots", "run_claims", "size_table_verdicts", "table_markdown",
           "verdicts", "verdicts_markdown", "write_report"]
