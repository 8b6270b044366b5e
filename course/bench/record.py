"""Benchmark figures a lesson page quotes: committed as data, the page's tables made from them.

``course bench NAME --save`` writes the result beside the lesson that owns the
benchmark (``course.toml``'s ``benchmarks``), as
``lessons/<lesson>/data/bench_NAME[_MODEL].json`` with the command, the date and
the machine, then rewrites the page's region

    <!-- BEGIN bench NAME (written by `course dev sync` from data/bench_NAME*.json) -->
    <!-- END bench NAME -->

with the tables :data:`RENDERERS` make of the data. ``course dev check`` says
when a page's tables are not what its data gives, so a figure on a page always
has its measurement committed beside it and the command that makes it again.
"""

from __future__ import annotations

import datetime
import difflib
import json
import os
import platform
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..exercises.meta import Course, CourseError, Lesson

DATA_DIR = "data"


def begin_marker(name: str) -> str:
    return f"<!-- BEGIN bench {name} (written by `course dev sync` from data/bench_{name}*.json) -->\n"


def end_marker(name: str) -> str:
    return f"<!-- END bench {name} -->\n"


def machine() -> str:
    """The machine in a few words: cores, architecture, CPU model, AMX."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor()
    flags = ""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        pass
    amx = "AMX" if "amx_tile" in flags else "no AMX"
    return f"{os.cpu_count()} cores, {platform.machine()}, {model or 'unknown CPU'}, {amx}"


def owner(course: Course, name: str) -> Lesson:
    for lesson in course.all_lessons:
        if name in lesson.benchmarks:
            return lesson
    raise CourseError(f"no lesson in course.toml lists the benchmark '{name}' in its benchmarks")


def data_file(course: Course, name: str, model: str | None = None) -> Path:
    lesson = owner(course, name)
    stem = f"bench_{name}" + (f"_{model}" if model else "")
    return course.root / Path(lesson.page).parent / DATA_DIR / f"{stem}.json"


def save(course: Course, name: str, result: dict, *, command: str, model: str | None = None) -> Path:
    """Write ``result`` as the committed data of benchmark ``name`` (per model when ``model`` is given)."""
    path = data_file(course, name, model)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"benchmark": name, "command": command, "date": datetime.date.today().isoformat(),
              "machine": machine(), "result": result}
    path.write_text(json.dumps(record, indent=2, default=str) + "\n")
    return path


def records(course: Course, name: str) -> list[dict]:
    """The committed records of benchmark ``name``, sorted by file name."""
    folder = data_file(course, name).parent
    return [json.loads(p.read_text()) for p in sorted(folder.glob(f"bench_{name}*.json"))
            if p.stem == f"bench_{name}" or p.stem.startswith(f"bench_{name}_")]


# -- tables -------------------------------------------------------------------------------------------------
def _table(header: list[str], rows: list[list[Any]], align: str = "") -> str:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align or ["---"] * len(header)) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _measured(records_: list[dict]) -> str:
    first = records_[0]
    commands = ", ".join(f"`{r['command']}`" for r in records_)
    return f"Measured on {first['date']} ({first['machine']}) by {commands}.\n"


def render_generation(records_: list[dict]) -> str:
    out = [_measured(records_)]
    for rec in records_:
        r = rec["result"]
        out.append(f"\n{r['model']}: {r['runs']} interleaved runs of {r['max_tokens']} tokens, {r['threads']} threads, "
                   f"llama.cpp extra buffer types {'on' if r['extra_bufts'] else 'off'}, medians:\n\n")
        out.append(_table(["", "time to first token", "decode tokens/s"], [
            ["raw llama-cpp-python", f"{r['raw']['ttft_s'] * 1000:.0f} ms", f"{r['raw']['tokens_per_s']:.1f}"],
            ["the course's `LlamaCppBackend`", f"{r['course']['ttft_s'] * 1000:.0f} ms",
             f"{r['course']['tokens_per_s']:.1f}"],
            ["overhead of the course's backend", f"{r['ttft_overhead_pct']:+.1f} %", f"{r['rate_overhead_pct']:+.1f} %"],
            ["roofline: memory bandwidth / model size", "",
             f"{r['roofline_tokens_per_s']:.0f} ({r['bandwidth_gb_s']:.1f} GB/s / {r['model_bytes'] / 1e6:.0f} MB)"],
        ]))
        out.append(f"\nllama.cpp reached {100 * r['raw']['tokens_per_s'] / r['roofline_tokens_per_s']:.0f} % "
                   "of the roofline.\n")
    return "".join(out)


def _call(text: str, limit: int = 60) -> str:
    """A tool call as a table cell: the call in code, or what the model wrote instead (cut at ``limit``)."""
    if text[:1] in ("'", '"'):  # repr() of the text the model wrote instead of a call
        words = " ".join(text[1:-1].split())
        words = words if len(words) <= limit else words[:limit].rstrip() + " ..."
        return "no call: " + words.replace("|", "\\|").replace("`", "'")
    return f"`{text}`".replace("|", "\\|")


def render_grammar(records_: list[dict]) -> str:
    rows = []
    for rec in records_:
        r = rec["result"]
        rows.append([r["model"], f"{r['constrained_tokens_per_s']:.1f} tokens/s, {_call(r['constrained_call'])}",
                     f"{r['parsed_tokens_per_s']:.1f} tokens/s, {_call(r['parsed_call'])}",
                     f"{r['constrained_tokens_per_s'] / r['parsed_tokens_per_s']:.2f}"])
    runs = sorted({rec["result"]["runs"] for rec in records_})
    return (_measured(records_) + f"\n{' or '.join(map(str, runs))} interleaved runs each, medians:\n\n"
            + _table(["model", "under the tool-call grammar", "unconstrained, parsed afterwards",
                      "speed under the grammar"], rows))


def render_serving(records_: list[dict]) -> str:
    r = records_[0]["result"]
    ms = lambda x: f"{x:.1f}"  # noqa: E731
    rows = [["in process (the reference)", ms(r["in_process"]["p50_ms"]), ms(r["in_process"]["p95_ms"]), "", "", ""]]
    for label, face, key in (("OpenAI face (`openai` client)", "openai_face", "openai"),
                             ("Ollama face (`ollama` client)", "ollama_face", "ollama")):
        over = r[f"{key}_overhead"]
        rows.append([label, ms(r[face]["p50_ms"]), ms(r[face]["p95_ms"]), ms(over["p50_ms"]), ms(over["p95_ms"]),
                     f"{r['end_to_end_ratio'][key]:.2f}x"])
    throughput = [[t["clients"], t["requests"], f"{t['tokens_per_s']:.1f}", f"{t['latency']['p50_ms']:.0f}",
                   f"{t['latency']['p95_ms']:.0f}"] for t in r["throughput"]]
    return (_measured(records_)
            + f"\n{r['model']}, {r['tokens_per_reply']} tokens per reply, {r['runs']} runs per path, interleaved:\n\n"
            + _table(["path", "latency p50 ms", "p95 ms", "overhead p50 ms", "overhead p95 ms",
                      "end to end over in process"], rows)
            + "\nThroughput through the Ollama face, one generation at a time:\n\n"
            + _table(["clients", "requests", "tokens/s", "latency p50 ms", "latency p95 ms"], throughput))


_RUN_LABELS = {"routed": "routed (router P(simple) ≥ {router})", "cascade": "cascade (answer confidence ≥ {self})"}


def render_routing(records_: list[dict]) -> str:
    r = records_[0]["result"]
    thresholds = r["thresholds"]
    rows = []
    for name, s in r["runs"].items():
        label = _RUN_LABELS.get(name, name).format(**thresholds)
        acc = f"{s['correct']}/{s['checked']}" if s["checked"] else "-"
        rows.append([label, f"{s['local_share']:.0%}", acc, f"{s['cost']:.5f}", f"{s['median_s']:.2f}",
                     f"{s['total_s']:.1f}"])
    checked = r["runs"]["all local"]["checked"]
    by_threshold: dict[float, dict[str, dict]] = {}
    for row in r["sweep"]:
        by_threshold.setdefault(row["threshold"], {})[row["signal"]] = row
    sweep = [[f"{t:g}", f"{s['router']['local_share']:.0%}", s["router"]["correct"], f"{s['self']['local_share']:.0%}",
              s["self"]["correct"]] for t, s in by_threshold.items()]
    right, of = r["routine_handled_locally"]["correct"], r["routine_handled_locally"]["of"]
    ratios = r["cost_ratio_cloud_over_routed"]
    claims = [[r["claims"]["local_share"], f"{r['local_model']} answers {right} of {of} routine checked tasks "
               f"correctly ({right / of:.0%})" if of else "no routine checked tasks"],
              [r["claims"]["cost_ratio"], "all cloud costs " + " and ".join(
                  f"{ratios[n]:.1f}x the {n} run" for n in ("routed", "cascade") if ratios.get(n))]]
    return (_measured(records_)
            + f"\nRouter {r['router_model']}, local model {r['local_model']}, cloud the fake; thresholds "
              f"{thresholds['router']} (router) and {thresholds['self']} (cascade); costs at the assumed prices "
              f"({r['cost_model']['cloud']['label']}: ${r['cost_model']['cloud']['input_per_m']} and "
              f"${r['cost_model']['cloud']['output_per_m']} per million tokens in and out; "
              f"{r['cost_model']['local']['label']}). The router agrees with the task labels on "
              f"{r['router_agreement']:.0%} of the tasks.\n\n"
            + _table(["run", "handled locally", "correct (checked tasks)", "cost $ (assumed)", "median s", "total s"],
                     rows)
            + "\nThe same signals at other thresholds, from the two baselines' answers (picked on this set, so "
              "optimistic):\n\n"
            + _table(["threshold", "router: handled locally", f"router: correct of {checked}",
                      "cascade: handled locally", f"cascade: correct of {checked}"], sweep)
            + "\nThe source's claims beside the measured figures:\n\n"
            + _table(["the source says", "measured here"], claims))


def render_foundry(records_: list[dict]) -> str:
    r = records_[0]["result"]
    runs = r["runs"]
    agree = sum(r["agree"])

    def tools(run: dict) -> str:
        called = run["agent_tools"]
        if not called:
            return "none"
        names = sorted(set(called))
        return ", ".join(f"`{n}`" + (f" {called.count(n)} times" if called.count(n) > 1 else "") for n in names)

    rows = [["model file"] + [f"`{Path(x['model_file']).name}`" for x in runs],
            ["load time"] + [f"{x['load_s']:.2f} s" for x in runs],
            ["resident memory added by loading"] + [f"{x['rss_model'] / 1e6:.0f} MB" for x in runs],
            ["median time to first token"] + [f"{x['median_ttft_s']:.3f} s" for x in runs],
            ["median tokens/s after the first"] + [f"{x['median_tokens_per_s']:.1f}" for x in runs],
            ['agent task ("What time is it in Paris?"): tool calls'] + [tools(x) for x in runs],
            ["answers that agree with the other runtime's"] + [f"{agree} of {len(r['agree'])}" for _ in runs]]
    return (_measured(records_) + f"\n{len(r['prompts'])} prompts, greedy, up to {r.get('max_tokens', 64)} tokens:\n\n"
            + _table([""] + [x["runtime"] for x in runs], rows))


def runtime_rows(r: dict) -> list[list[str]]:
    """``course bench runtimes``' figures as rows of a table whose columns are the runtimes."""
    n = r["max_tokens"]
    fields = [("load", lambda x: f"{x['load_s']:.2f} s"),
              ("time to first token", lambda x: f"{x['ttft_s'] * 1000:.0f} ms"),
              ("prompt tokens/s", lambda x: f"{x['prompt_tokens_per_s']:.0f}"),
              ("decode tokens/s (range)", lambda x: f"{x['decode_tokens_per_s']:.1f} ({x['decode_spread'][0]:.1f}-"
                                                    f"{x['decode_spread'][1]:.1f})"),
              ("MB read per token", lambda x: f"{x['bytes_per_token'] / 1e6:.1f}"),
              ("roofline tokens/s", lambda x: f"{x['roofline_tokens_per_s']:.0f}"),
              ("share of the roofline", lambda x: f"{x['roofline_fraction']:.0%}"),
              ("memory added by loading", lambda x: f"{x['rss_loaded'] / 1e6:.0f} MB"),
              ("tokens the same as llama.cpp's", lambda x: f"{x['agrees_with_llama_cpp']} of {n}")]
    return [[label, *(cell(x) for x in r["rows"])] for label, cell in fields]


def render_runtimes(records_: list[dict]) -> str:
    r = records_[0]["result"]
    skipped = "".join(f"\n`{k}` was not measured: {v}.\n" for k, v in r.get("skipped", {}).items())
    return (_measured(records_)
            + f"\n{r['model']}: the same {r['prompt_tokens']} prompt token ids, {r['max_tokens']} tokens generated "
              f"greedily, {r['repeats']} timed runs per runtime after a warm-up (medians), {r['threads']} threads, "
              f"each runtime in a process of its own; memory bandwidth {r['bandwidth_gb_s']:.1f} GB/s (the best of "
              "two measurements in the run). MB read per token: the weights one token reads, plus the KV cache at "
              "the middle of the reply.\n\n"
            + _table(["", *(f"`{x['runtime']}`" for x in r["rows"])], runtime_rows(r)) + skipped)


def _knob_cells(x: dict) -> list[str]:
    if "refused" in x:
        return ["refused: " + x["refused"].replace("|", "\\|"), "", "", "", ""]
    if x.get("gen_tokens_per_s") is None:
        return [f"timed out in {x['timed_out']} of {x['runs']} runs", "", "", "", ""]
    spread = x["gen_tokens_per_s_spread"]
    return [f"{x['prompt_tokens_per_s']:.0f}", f"{x['gen_tokens_per_s']:.1f} ({spread[0]:.1f}-{spread[1]:.1f})",
            f"{x['load_s']:.2f} s", f"{x['kv_cache_mib']:.1f} ({x['predicted_kv_cache_mib']:.1f})",
            f"{x['compute_mib']:.1f} ({x['predicted_compute_mib']:.1f})"]


def render_knobs(records_: list[dict]) -> str:
    r = records_[0]["result"]
    rows = [[x["label"], *_knob_cells(x)] for x in r["rows"]]
    return (_measured(records_)
            + f"\n{r['model']}: a {r['n_prompt']}-token prompt, then {r['n_gen']} tokens generated greedily; every row "
              f"is a fresh process, {r['runs']} runs per row, rows interleaved; medians, with the range of the "
              "decode speed. Buffers as llama.cpp's log reports them, lesson 04's prediction in brackets. The "
              "baseline: 2 threads, n_ctx 2048, n_batch and n_ubatch 512, f16 KV cache, no flash attention, "
              "mmap on.\n\n"
            + _table(["setting", "prompt tok/s", "decode tok/s (range)", "load", "KV cache MiB (predicted)",
                      "compute MiB (predicted)"], rows))


def vllm_tables(r: dict) -> list[tuple[str, list[str], list[list]]]:
    """``course bench vllm``'s figures as (title, header, rows) tables, for the terminal and the page."""
    runs = r["throughput"]
    engines = ["vllm", "course serve", "llama.cpp"]
    by = {e: {x["clients"]: x for x in runs[e]} for e in engines}
    rows = []
    for n in r["clients"]:
        rows.append([n, *(f"{by[e][n]['tokens_per_s']:.0f}" for e in engines),
                     *(f"{by[e][n]['p50_s']:.2f} / {by[e][n]['p95_s']:.2f}" for e in engines)])
    throughput = (f"{r['model']}: N clients at once, {r['max_tokens']} tokens each, greedy", ["clients",
                  "vLLM tok/s", "course serve tok/s", "llama.cpp tok/s", "vLLM p50 / p95 s",
                  "course serve p50 / p95 s", "llama.cpp p50 / p95 s"], rows)
    p = r["prefix"]
    prefix = ("A shared system prompt, asked twice", ["request", "prompt tokens", "latency s",
              "prefix-cache hits (vLLM's /metrics)", "predicted hits"],
              [["first", p["first"]["prompt_tokens"], f"{p['first']['seconds']:.2f}", f"{p['first']['hits']:.0f}", 0],
               ["second", p["second"]["prompt_tokens"], f"{p['second']['seconds']:.2f}", f"{p['second']['hits']:.0f}",
                p["predicted_hits"]]])
    pre = ("A burst of 8 requests of 200 tokens, with two KV cache sizes", ["KV cache blocks (128 positions)",
           "vLLM's preemptions", "the simulator's", "tok/s"],
           [[x["blocks"], f"{x['measured_preemptions']:.0f}", x["predicted_preemptions"], f"{x['tokens_per_s']:.0f}"]
            for x in r["preemption"].values()])
    c = r["copy"]
    spec = ("N-gram speculative decoding on a copy task", ["server", "tokens", "tok/s", "draft tokens accepted",
            "same text as without"],
            [["plain", c["plain"]["tokens"], f"{c['plain']['tokens_per_s']:.1f}", "", ""],
             ["--speculative-config ngram", c["ngram"]["tokens"], f"{c['ngram']['tokens_per_s']:.1f}",
              f"{c['ngram']['accepted']:.0f} of {c['ngram']['drafted']:.0f}"
              + (f" ({c['ngram']['acceptance_rate']:.0%})" if c["ngram"]["acceptance_rate"] is not None else ""),
              "yes" if c["same_text"] else "no"]])
    return [throughput, prefix, pre, spec]


def render_vllm(records_: list[dict]) -> str:
    r = records_[0]["result"]
    out = [_measured(records_), f"\nvLLM started in {r['vllm_start_s']:.0f} s (eager mode) with a KV cache of "
                                f"{r['kv_cache_tokens']:,} positions (1 GiB); its three processes held "
                                f"{r['vllm_resident_bytes'] / 1e9:.1f} GB after the throughput runs.\n"]
    for title, header, rows in vllm_tables(r):
        out.append(f"\n{title}:\n\n" + _table(header, rows))
    return "".join(out)


def _rate(pair: list[int]) -> str:
    hit, n = pair
    return f"{hit}/{n}"


def redteam_rows(r: dict) -> list[tuple[str, list[str], list[list]]]:
    """One table per model: a row per set of defences, a column per category."""
    cats = ["direct", "indirect", "exfiltration", "role_confusion", "jailbreak"]
    out = []
    for alias, runs in r["models"].items():
        header = ["defences", *(c.replace("_", " ") for c in cats), "all attacks", "benign still answered"]
        rows = [[label, *(_rate(run["rates"].get(c, [0, 0])) for c in cats), _rate(run["rates"]["all"]),
                 _rate(run["rates"].get("benign", [0, 0]))] for label, run in runs.items()]
        out.append((alias, header, rows))
    return out


def render_redteam(records_: list[dict]) -> str:
    parts = []
    for r in records_:
        for alias, header, rows in redteam_rows(r["result"]):
            parts.append(f"**{alias}**: attacks that succeeded (of the suite's {len(r['result']['cases'])} "
                         "cases; benign: answers still useful)\n\n" + _table(header, rows))
    return "\n".join(parts) + "\n" + _measured(records_)


def redaction_rows(r: dict) -> tuple[list[str], list[list]]:
    finders = list(r["finders"])
    kinds = list(next(iter(r["finders"].values())))
    header = ["kind", *finders]
    rows = []
    for kind in kinds:
        cells = []
        for f in finders:
            s = r["finders"][f].get(kind)
            cells.append(f"{s['precision']:.3f} / {s['recall']:.3f} ({s['tp']}, {s['fn']})"
                         if s and (s["tp"] + s["fp"] + s["fn"]) else "-")
        rows.append([kind, *cells])
    return header, rows


def render_redaction(records_: list[dict]) -> str:
    r = records_[0]["result"]
    header, rows = redaction_rows(r)
    return (f"Precision / recall on the {r['texts']} labelled texts (found, missed):\n\n" + _table(header, rows)
            + "\n" + _measured(records_))


def render_prometheus(records_: list[dict]) -> str:
    r = records_[0]["result"]
    rows = [[name, "-" if v is None else f"{v:g}", f"`{r['queries'][name]}`"] for name, v in r["promql"].items()]
    return (f"{r['requests']} requests to `course serve` ({r['model']}, {r['max_tokens']} tokens each) from "
            f"{r['clients']} clients in {r['load_s']} s; the clients saw {r['client_ok']} answers and "
            f"{r['client_errors']} errors. Prometheus, scraping every second, answers:\n\n"
            + _table(["figure", "value", "PromQL"], rows)
            + f"\nThe clients timed every answer themselves: p50 {r['client_p50_s']} s, p95 {r['client_p95_s']} s, "
            "exact; Prometheus' percentiles are estimates from the histogram's buckets.\n\n" + _measured(records_))


def _limit_outcome(x: dict) -> str:
    """One row of the limits table in words, from the child's outcome and message."""
    import re

    message = x.get("message") or ""
    if x["outcome"] == "loaded":
        return "loaded and answered"
    if "was not loaded" in message:
        need = re.search(r"needs about (\d+) MiB", message)
        room = re.search(r"grow by (\d+) MiB", message)
        return f"refused before loading (needs about {need[1]} MiB, room for {room[1]})" if need and room \
            else "refused before loading"
    if "GGML_ASSERT" in message or x["outcome"].startswith("killed"):
        assertion = re.search(r"GGML_ASSERT\([^)]*\)", message)
        return f"{x['outcome']}: llama.cpp aborted the process" + (f" ({assertion[0]})" if assertion else "")
    reason = re.search(r"\.gguf: (.*?)[;.] ", message) or re.search(r": (Unable to allocate [^;]*)", message)
    return "llama.cpp failed while loading" + (f": {reason[1]}" if reason else "") + "; the error names the limit"


def limits_tables(r: dict) -> list[tuple[str, list[str], list[list]]]:
    pred = [[x["alias"], x["n_ctx"], x["predicted_mib"], x.get("grown_load_mib", "-"), x.get("grown_mib", x["outcome"]),
             x["predicted_resident_mib"], x.get("resident_mib", "-")] for x in r["prediction"]]
    lim = [[x["alias"], x["limit_mib"], x["check"], _limit_outcome(x)] for x in r["limits"]]
    tables = [("address space a model takes (MiB): predicted by the course's check, measured",
               ["model", "n_ctx", "predicted", "after load", "after a generation", "predicted resident",
                "resident"], pred),
              ("under RLIMIT_AS (n_ctx 4096): with the course's check, and without it (COURSE_MEMORY_CHECK=off)",
               ["model", "limit MiB", "check", "what happened"], lim)]
    for alias, rows in r["deadlines"].items():
        tables.append((f"{alias}: an agent within a deadline and a token budget",
                       ["deadline s", "token budget", "stopped by", "elapsed s", "model calls", "tokens",
                        "past the deadline ms"],
                       [[x["deadline_s"] or "-", x["max_tokens"] or "-", x["stop_reason"], x["elapsed_s"], x["calls"],
                         x["tokens"], x["past_deadline_ms"] if x["stop_reason"] == "over_budget" and x["deadline_s"]
                         and x["past_deadline_ms"] is not None and x["past_deadline_ms"] >= 0 else "-"]
                        for x in rows]))
    return tables


def render_limits(records_: list[dict]) -> str:
    parts = [f"{title}:\n\n" + _table(header, rows) for title, header, rows in limits_tables(records_[0]["result"])]
    return "\n".join(parts) + "\n" + _measured(records_)


def render_garak(records_: list[dict]) -> str:
    """garak's probes against ``course serve``: a row per probe and detector, a column per model."""
    results = [rec["result"] for rec in records_]
    pairs = list(dict.fromkeys((row["probe"], row["detector"]) for r in results for row in r["rows"]))
    found = {(r["model"], row["probe"], row["detector"]): row for r in results for row in r["rows"]}

    def cell(row: dict | None) -> str:
        if not row or row["attack_success_rate"] is None:
            return "-"
        return f"{row['hits']}/{row['total']} ({row['attack_success_rate']:.0%})"

    rows = [[f"`{probe}`", f"`{detector}`", *(cell(found.get((r["model"], probe, detector))) for r in results)]
            for probe, detector in pairs]
    totals = [(r["hits"], sum(row["total"] for row in r["rows"])) for r in results]
    rows.append(["all ten together" if len(pairs) == 10 else "all together", "",
                 *(f"{hits}/{n} ({hits / n:.0%})" if n else "-" for hits, n in totals)])
    s, first = results[0]["settings"], results[0]
    return (_measured(records_)
            + f"\ngarak {first['garak']} with its `{first['generator']}` generator against `course serve`'s OpenAI "
              f"face, offline: {s['generations']} generation per prompt, at most {s['soft_probe_prompt_cap']} "
              f"prompts per probe (the probes that build their own prompts ignore that cap), up to "
              f"{s['max_tokens']} tokens, temperature {s['temperature']:g}, only each probe's primary detector. "
              "A cell: attempts where the attack worked / attempts scored (the attack success rate); lower is "
              "better.\n\n"
            + _table(["probe", "detector", *(r["model"] for r in results)], rows)
            + "\ngarak's run time: " + ", ".join(f"{r['model']} {r['seconds']:.0f} s" for r in results) + ".\n")


def capstone_rows(r: dict) -> tuple[list[str], list[list]]:
    header = ["agent", "model", "runtime", "loop", "cloud", "tasks", "success", "routine", "hard", "tool accuracy", "refusals where required",
              "crashes", "p50 s", "p95 s", "cloud calls", "cloud $ (assumed)", "peak RSS MiB"]
    rows = [[x["agent"], x["model"], x.get("runtime", "llama.cpp"), x.get("loop", "guided"), x["cloud_mode"], x["tasks"], x["success_rate"], x["success_routine"],
             x["success_hard"], x["tool_accuracy"], x["refusal_rate_where_required"], x["crashes"],
             x["latency_p50_s"], x["latency_p95_s"], x["cloud_calls"], f"{x['cloud_cost_usd']:.4f}",
             x["peak_rss_mib"]] for x in r["runs"] if "skipped" not in x]
    return header, rows


def capstone_category_rows(r: dict) -> tuple[list[str], list[list]]:
    """Success by kind of task, per agent and model, on llama.cpp with the guided loop and no cloud: what the
    small model does on its own."""
    runs = [x for x in r["runs"] if "skipped" not in x and x.get("runtime", "llama.cpp") == "llama.cpp"
            and x.get("loop", "guided") == "guided" and x["cloud_mode"] == "none"]
    models = list(dict.fromkeys(x["model"] for x in runs))
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    for x in runs:
        for category, rate in x["by_category"].items():
            cells.setdefault((x["agent"], category), {})[x["model"]] = rate
    rows = [[agent, category, *(by_model.get(m, "") for m in models)] for (agent, category), by_model in cells.items()]
    return ["agent", "kind of task", *models], rows


def render_capstone(records_: list[dict]) -> str:
    header, rows = capstone_rows(records_[0]["result"])
    by_kind = capstone_category_rows(records_[0]["result"])
    return (_table(header, rows) + "\n" + "Success by kind of task, each model alone (guided loop, no cloud):\n\n"
            + _table(*by_kind) + "\n" + _measured(records_))


RENDERERS: dict[str, Callable[[list[dict]], str]] = {
    "generation": render_generation, "grammar": render_grammar, "serving": render_serving,
    "routing": render_routing, "foundry": render_foundry, "runtimes": render_runtimes, "knobs": render_knobs,
    "vllm": render_vllm, "redteam": render_redteam, "redaction": render_redaction, "prometheus": render_prometheus,
    "limits": render_limits, "garak": render_garak, "capstone": render_capstone,
}


# -- figures: SVG files beside the data, drawn from it ------------------------------------------------------
def figure_runtimes(records_: list[dict]) -> dict[str, str]:
    """The roofline chart: each runtime's decode speed at the bytes it reads per token, under bandwidth / bytes."""
    from ..plot import scatter_chart

    r = records_[0]["result"]
    points = [(x["runtime"], x["bytes_per_token"] / 1e6, x["decode_tokens_per_s"]) for x in r["rows"]]
    xs = [p[1] for p in points]
    lo, hi = min(xs) * 0.8, max(xs) * 1.2
    bandwidth_mb = r["bandwidth_gb_s"] * 1e3
    curve = [(lo + (hi - lo) * i / 40, bandwidth_mb / (lo + (hi - lo) * i / 40)) for i in range(41)]
    return {"bench_runtimes_roofline.svg": scatter_chart(
        points, title=f"{r['model']}: decode speed against the memory-bandwidth roofline",
        x_label="MB read per generated token", y_label="tokens per second", y_from_zero=True,
        curves={f"roofline: {r['bandwidth_gb_s']:.1f} GB/s / MB per token": curve})}


def figure_vllm(records_: list[dict]) -> dict[str, str]:
    """Throughput against the number of clients: batching (vLLM) against one generation at a time."""
    from ..plot import line_chart

    r = records_[0]["result"]
    series = {name: [(x["clients"], x["tokens_per_s"]) for x in r["throughput"][key]]
              for name, key in (("vLLM (continuous batching)", "vllm"), ("course serve", "course serve"),
                                ("llama.cpp in process", "llama.cpp"))}
    return {"bench_vllm_throughput.svg": line_chart(series, title=f"{r['model']}: generated tokens per second",
                                                    x_label="clients at once", y_label="tokens per second")}


FIGURES: dict[str, Callable[[list[dict]], dict[str, str]]] = {"runtimes": figure_runtimes, "vllm": figure_vllm}


# -- the pages' regions -------------------------------------------------------------------------------------
def _regions(course: Course) -> list[tuple[Path, str]]:
    """(page, benchmark) for every benchmark of a lesson whose page has its region or whose data exists."""
    found = []
    for lesson in course.all_lessons:
        page = course.root / lesson.page
        if not page.exists():
            continue
        text = page.read_text()
        for name in lesson.benchmarks:
            if begin_marker(name) in text or records(course, name):
                found.append((page, name))
    return found


def _rel(page: Path) -> str:
    """``lessons/<lesson>/index.md`` from a page's path."""
    return "/".join(page.parts[-3:])


def _split(text: str, name: str, page: Path) -> tuple[str, str, str]:
    begin, end = begin_marker(name), end_marker(name)
    start = text.find(begin)
    stop = text.find(end, start) if start >= 0 else -1
    if start < 0 or stop < 0:
        raise CourseError(f"{_rel(page)}: data for benchmark '{name}' is committed but the page has no region for "
                          f"its tables: put the two lines\n{begin}{end}where they belong, then run `course dev sync`")
    return text[:start + len(begin)], text[start + len(begin):stop], text[stop:]


def _wanted(course: Course, name: str, page: Path) -> str:
    found = records(course, name)
    if not found:
        raise CourseError(f"{_rel(page)} has a region for benchmark '{name}' but no data: run "
                          f"`course bench {name} --save` to measure and commit it")
    return "\n" + RENDERERS[name](found) + "\n"


def _figures(course: Course, name: str, page: Path) -> dict[Path, str]:
    """The SVG files benchmark ``name``'s data draws, by their paths in the page's data folder."""
    if name not in FIGURES or not records(course, name):
        return {}
    folder = page.parent / DATA_DIR
    return {folder / file: svg for file, svg in FIGURES[name](records(course, name)).items()}


def stale(course: Course) -> list[str]:
    problems = []
    for page, name in _regions(course):
        for path, svg in _figures(course, name, page).items():
            if not path.exists() or path.read_text() != svg:
                problems.append(f"{path.relative_to(course.root)} is not the figure its data draws: run "
                                "`course dev sync`")
        try:
            _, body, _ = _split(page.read_text(), name, page)
            wanted = _wanted(course, name, page)
        except CourseError as exc:
            problems.append(str(exc))
            continue
        if body != wanted:
            rel = page.relative_to(course.root)
            diff = "".join(difflib.unified_diff(body.splitlines(True), wanted.splitlines(True), f"{rel} (now)",
                                                f"{rel} (from its data)"))
            problems.append(f"{rel}: the tables of benchmark '{name}' are not what its data gives; run "
                            f"`course dev sync`\n{diff}")
    return problems


def sync(course: Course, names: list[str] | None = None) -> list[Path]:
    """Rewrite the regions of the benchmarks in ``names`` (all when None) that have data; the pages changed.

    A region without data is left as it is: :func:`stale` reports it, with the command that measures it."""
    changed = []
    for page, name in _regions(course):
        if (names is not None and name not in names) or not records(course, name):
            continue
        for path, svg in _figures(course, name, page).items():
            if not path.exists() or path.read_text() != svg:
                path.write_text(svg)
                changed.append(path)
        text = page.read_text()
        before, body, after = _split(text, name, page)
        wanted = _wanted(course, name, page)
        if body != wanted:
            page.write_text(before + wanted + after)
            changed.append(page)
    return changed


__all__ = ["FIGURES", "RENDERERS", "runtime_rows", "vllm_tables", "begin_marker", "end_marker", "machine", "records", "save", "stale", "sync"]
