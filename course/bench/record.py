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


RENDERERS: dict[str, Callable[[list[dict]], str]] = {
    "generation": render_generation, "grammar": render_grammar, "serving": render_serving,
    "routing": render_routing, "foundry": render_foundry,
}


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


def stale(course: Course) -> list[str]:
    problems = []
    for page, name in _regions(course):
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
        text = page.read_text()
        before, body, after = _split(text, name, page)
        wanted = _wanted(course, name, page)
        if body != wanted:
            page.write_text(before + wanted + after)
            changed.append(page)
    return changed


__all__ = ["RENDERERS", "begin_marker", "end_marker", "machine", "records", "save", "stale", "sync"]
