"""Course verbs: models, doctor, demo, bench."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import platform
import sys
import time

import click
from rich.markup import escape
from rich.table import Table

from ..models import DEFAULT_MODEL, list_models, model_status
from .main import cli, console, friendly_errors, print_json


def _mb(n: int) -> str:
    return f"{n / 1e6:,.0f} MB"


@cli.command()
@click.option("--verify", is_flag=True, help="join chunked models and check every sha256 now")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@friendly_errors
def models(verify: bool, as_json: bool) -> None:
    """List the shipped models: alias, file, size, quantization, chat format, installed or not."""
    rows = []
    for entry in list_models():
        status = model_status(entry.alias, verify=verify)
        rows.append({
            "alias": entry.alias, "title": entry.title, "file": entry.filename, "size_bytes": entry.size_bytes,
            "quantization": entry.quantization, "parameters": entry.parameters,
            "chat_format": entry.chat_format or "none (base model)", "kind": entry.kind,
            "installed": status.installed, "path": str(status.path) if status.path else None,
            "problem": status.problem, "install": entry.install,
        })
    if as_json:
        print_json(rows)
        return
    table = Table(title="Shipped models (from PyPI packages, nothing downloaded at run time)")
    for col in ("alias", "file", "size", "quant", "params", "chat format", "installed"):
        table.add_column(col)
    for r in rows:
        installed = "[green]yes[/]" if r["installed"] else f"[red]no[/]: {escape(r['problem'])}"
        table.add_row(r["alias"], r["file"], _mb(r["size_bytes"]), r["quantization"], r["parameters"],
                      r["chat_format"], installed)
    console.print(table)


def _check(name: str, ok: bool, detail: str, fix: str = "", required: bool = True) -> dict:
    return {"check": name, "ok": ok, "detail": detail, "fix": "" if ok else fix, "required": required}


def run_doctor() -> list[dict]:
    """Every readiness check, each with the fix for a problem."""
    from ..exercises.meta import CourseError, find_root

    checks = [_check("python", sys.version_info >= (3, 11), platform.python_version(),
                     "install Python 3.11 or newer")]
    try:
        root = find_root()
        checks.append(_check("course folder", True, str(root)))
    except CourseError as exc:
        checks.append(_check("course folder", False, str(exc), "cd into the course checkout"))
    for module, dist, required in (("llama_cpp", "llama-cpp-python", True), ("openai", "openai", True),
                                   ("ollama", "ollama", True), ("rich", "rich", True),
                                   ("hypothesis", "hypothesis", True), ("gguf", "gguf", True),
                                   ("mkdocs", "mkdocs-material", False), ("nbgrader", "nbgrader", False),
                                   ("foundry_local_sdk", "foundry-local-sdk", False),
                                   ("onnxruntime_genai", "onnxruntime-genai", False)):
        found = importlib.util.find_spec(module) is not None
        version = ""
        if found:
            from importlib.metadata import PackageNotFoundError, version as dist_version

            try:
                version = dist_version(dist)
            except PackageNotFoundError:
                version = "installed"
        extra = {"mkdocs": "site", "nbgrader": "instructor", "foundry_local_sdk": "foundry",
                 "onnxruntime_genai": "foundry-prepare"}.get(module)
        fix = f'pip install -e ".[{extra}]"' if extra else f"pip install {dist}"
        checks.append(_check(f"package {dist}", found, version or "missing", fix, required))
    for entry in list_models():
        status = model_status(entry.alias)
        checks.append(_check(f"model {entry.alias}", status.installed,
                             str(status.path or ("chunks installed, joined on first use" if status.installed else "")),
                             status.problem, required=entry.alias == DEFAULT_MODEL))
    from ..foundry.prepare import is_converted, onnx_folder

    prepared = is_converted(DEFAULT_MODEL)
    checks.append(_check(f"Foundry Local: {DEFAULT_MODEL} prepared", prepared,
                         str(onnx_folder(DEFAULT_MODEL)) if prepared else "not yet (lesson 06 only)",
                         "course foundry prepare", required=False))
    checks.append(_check("CPU threads", True, f"{os.cpu_count()} (the backends use all of them)"))
    checks.append(_amx_check())
    return checks


def _amx_check() -> dict:
    """The CPU's AMX status and what the course does about llama.cpp's extra buffer types."""
    from ..backends.llama_loader import EXTRA_BUFTS_ENV, extra_bufts_decision
    from ..backends.types import BackendError

    try:
        return _check("CPU AMX", True, extra_bufts_decision(fresh=True).summary())
    except BackendError as exc:
        return _check("CPU AMX", False, str(exc), f"unset {EXTRA_BUFTS_ENV}, or set it to on or off")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def doctor(as_json: bool) -> None:
    """Check that everything the course needs is ready, with the fix for each problem."""
    checks = run_doctor()
    bad = [c for c in checks if not c["ok"] and c["required"]]
    if as_json:
        print_json(checks)
    else:
        table = Table(title="course doctor")
        for col in ("", "check", "detail", "fix"):
            table.add_column(col)
        for c in checks:
            mark = "[green]✓[/]" if c["ok"] else ("[red]✗[/]" if c["required"] else "[yellow]![/]")
            table.add_row(mark, c["check"], escape(c["detail"]), escape(c["fix"]))
        console.print(table)
        console.print("[green]Ready.[/]" if not bad else f"[red]{len(bad)} problem(s) to fix first.[/]")
    raise SystemExit(1 if bad else 0)


@cli.command()
@click.option("--model", default=DEFAULT_MODEL, show_default=True, help="registry alias of the model")
@click.option("--question", default="What time is it in Paris right now?", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@friendly_errors
def demo(model: str, question: str, as_json: bool) -> None:
    """Run a real tool-calling agent on a shipped model and show every step with timings."""
    from ..agent import Agent
    from ..backends.llama_cpp import LlamaCppBackend
    from ..tools.clock import get_current_time

    start = time.perf_counter()
    backend = LlamaCppBackend(model)
    load_s = time.perf_counter() - start
    agent = Agent(backend, [get_current_time])
    run_start = time.perf_counter()
    result = agent.run(question)
    run_s = time.perf_counter() - run_start
    calls = [{"name": s.call.name, "arguments": s.call.arguments, "result": s.content, "ok": s.ok}
             for s in result.trace.tool_steps]
    steps = [{"ttft_s": s.response.timings.ttft_s, "tokens_per_s": s.response.timings.tokens_per_s,
              "completion_tokens": s.response.usage.completion_tokens} for s in result.trace.model_steps]
    if as_json:
        print_json({"model": model, "question": question, "answer": result.answer, "stop_reason": result.stop_reason,
                    "tool_calls": calls, "model_steps": steps, "load_s": load_s, "run_s": run_s})
        return
    console.print(f"[bold]model[/] {model} ({backend.path.name}, loaded in {load_s:.2f} s, "
                  f"{backend.n_threads} threads)")
    console.print(f"[bold]user[/]  {escape(question)}")
    result.trace.print(console)
    if calls:
        first = calls[0]
        console.print(f"[bold]tool call[/] {first['name']}({escape(first['arguments'])}) -> {escape(first['result'])}")
    console.print(f"[bold]answer[/] {escape(result.answer or '(no answer: stopped at max_steps)')}")
    rates = [s["tokens_per_s"] for s in steps if s["tokens_per_s"]]
    console.print(f"[bold]timings[/] {len(steps)} model calls in {run_s:.2f} s; first token after "
                  f"{steps[0]['ttft_s'] * 1000:.0f} ms; decode {min(rates):.0f}-{max(rates):.0f} tokens/s"
                  if rates else f"[bold]timings[/] {run_s:.2f} s")


@cli.command()
@click.option("--model", default=DEFAULT_MODEL, show_default=True)
@click.option("--runs", default=5, show_default=True, help="runs of each, interleaved; medians are reported")
@click.option("--max-tokens", default=64, show_default=True)
@click.option("--grammar", is_flag=True, help="instead: the cost of grammar-constrained tool calls")
@click.option("--grading", is_flag=True, help="instead: grading time, one submission and a class, serial vs parallel")
@click.option("--submissions", default=30, show_default=True, help="with --grading: the class size")
@click.option("--lesson", "lessons", multiple=True, help="with --grading: only this lesson (repeatable; default all)")
@click.option("--routing", is_flag=True,
              help="instead: lesson 05's task set all local, routed and all cloud: local share, accuracy, cost")
@click.option("--serving", is_flag=True,
              help="instead: course serve's per-request overhead per face, and throughput with 1, 2, 4 clients")
@click.option("--foundry", is_flag=True,
              help="instead: SmolLM2 on llama.cpp (GGUF) beside Foundry Local (ONNX int4): load, speed, memory, answers")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@friendly_errors
def bench(model: str, runs: int, max_tokens: int, grammar: bool, grading: bool, submissions: int,
          lessons: tuple[str, ...], routing: bool, serving: bool, foundry: bool, as_json: bool) -> None:
    """Time to first token and tokens/s of the course backend beside raw llama-cpp-python."""
    from rich.progress import Progress

    from ..bench.generation import bench_generation, bench_tool_grammar

    if serving:
        _bench_serving(model, runs, max_tokens, as_json)
        return
    if routing:
        _bench_routing(as_json)
        return
    if foundry:
        _bench_foundry(max_tokens, as_json)
        return
    if grading:
        from ..bench.grading import bench_grading

        with Progress(console=console, transient=True, disable=as_json) as bar:
            task = bar.add_task(f"grading {submissions} submissions twice", total=2 * submissions)
            result = bench_grading(submissions, progress=lambda *_: bar.advance(task), lessons=list(lessons) or None)
        if as_json:
            print_json(result.to_dict())
            return
        table = Table(title=f"grading: {result.lessons} lesson(s) per submission, copies of the reference solution")
        for col in ("", "seconds", "per submission"):
            table.add_column(col)
        table.add_row("one complete submission", f"{result.one_submission_s:.1f}", f"{result.one_submission_s:.1f}")
        table.add_row(f"{submissions} submissions, 1 worker (serial)", f"{result.serial_s:.1f}",
                      f"{result.serial_s / submissions:.1f}")
        table.add_row(f"{submissions} submissions, {result.workers} workers", f"{result.parallel_s:.1f}",
                      f"{result.parallel_s / submissions:.1f}")
        console.print(table)
        console.print(f"speed-up from {result.workers} workers: {result.speedup:.2f}x"
                      + ("" if result.all_full_points else "  [red](some copies did not get full points!)[/]"))
        for line in result.shortfalls[:10]:
            console.print(f"  [red]not full:[/] {line}", highlight=False)
        return

    if grammar:
        with console.status(f"benchmarking tool-call grammar on {model} ..."):
            cost = bench_tool_grammar(model, runs=runs)
        if as_json:
            print_json(cost.to_dict())
            return
        table = Table(title=f"{model}: get_current_time offered, tool_choice=auto, {runs} interleaved runs (medians)")
        for col in ("decoding", "decode tokens/s", "the call"):
            table.add_column(col)
        table.add_row("constrained by the tool-call grammar", f"{cost.constrained_tokens_per_s:.1f}",
                      escape(cost.constrained_call))
        table.add_row("unconstrained, parsed and validated", f"{cost.parsed_tokens_per_s:.1f}",
                      escape(cost.parsed_call))
        console.print(table)
        console.print(f"the grammar costs a factor of {cost.slowdown:.2f} in decode speed")
        return

    if as_json:
        result = bench_generation(model, runs=runs, max_tokens=max_tokens)
        print_json(result.to_dict())
        return
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task(f"benchmarking {model}", total=runs)
        result = bench_generation(model, runs=runs, max_tokens=max_tokens,
                                  progress=lambda done, total: bar.update(task, completed=done))
    bufts = "on" if result.extra_bufts else "off"
    table = Table(title=f"{model}: {runs} interleaved runs, {max_tokens} tokens, {result.threads} threads, "
                        f"llama.cpp extra buffer types {bufts} (medians)")
    for col in ("", "time to first token", "decode tokens/s"):
        table.add_column(col)
    table.add_row("raw llama-cpp-python", f"{result.raw.ttft_s * 1000:.0f} ms", f"{result.raw.tokens_per_s:.1f}")
    table.add_row("course LlamaCppBackend", f"{result.course.ttft_s * 1000:.0f} ms",
                  f"{result.course.tokens_per_s:.1f}")
    table.add_row("overhead", f"{result.ttft_overhead_pct:+.1f} %", f"{result.rate_overhead_pct:+.1f} %")
    table.add_row("roofline (bandwidth / model size)", "",
                  f"{result.roofline_tokens_per_s:.0f}  ({result.bandwidth_gb_s:.1f} GB/s / {_mb(result.model_bytes)})")
    console.print(table)
    console.print(f"raw llama-cpp-python reaches {100 * result.raw.tokens_per_s / result.roofline_tokens_per_s:.0f} % "
                  "of the memory-bandwidth ceiling.")


def _bench_serving(model: str, runs: int, max_tokens: int, as_json: bool) -> None:
    from rich.progress import Progress

    from ..bench.serving import bench_serving

    with Progress(console=console, transient=True, disable=as_json) as bar:
        task = bar.add_task(f"{runs} runs per path, then 1, 2, 4 clients", total=5)
        result = bench_serving(model, runs=runs, max_tokens=max_tokens, progress=lambda: bar.advance(task))
    if as_json:
        print_json(result.to_dict())
        return
    table = Table(title=f"course serve, {model}: {result.tokens_per_reply} tokens per reply, {runs} runs per path")
    for col in ("path", "latency p50 ms", "p95 ms", "overhead p50 ms", "p95 ms"):
        table.add_column(col)
    table.add_row("in process (reference)", f"{result.in_process.p50_ms:.1f}", f"{result.in_process.p95_ms:.1f}",
                  "", "")
    for name, face, over in (("OpenAI face (openai client)", result.openai_face, result.openai_overhead),
                             ("Ollama face (ollama client)", result.ollama_face, result.ollama_overhead)):
        table.add_row(name, f"{face.p50_ms:.1f}", f"{face.p95_ms:.1f}", f"{over.p50_ms:.1f}", f"{over.p95_ms:.1f}")
    console.print(table)
    table = Table(title="throughput through the Ollama face (one generation at a time)")
    for col in ("clients", "requests", "tokens/s", "latency p50 ms", "latency p95 ms"):
        table.add_column(col)
    for t in result.throughput:
        table.add_row(str(t.clients), str(t.requests), f"{t.tokens_per_s:.1f}", f"{t.latency.p50_ms:.0f}",
                      f"{t.latency.p95_ms:.0f}")
    console.print(table)


def _bench_routing(as_json: bool) -> None:
    from rich.progress import Progress

    from ..routing.bench import ROUTED_RUNS, bench_routing
    from ..routing.router import load_tasks

    n = len(load_tasks())
    with Progress(console=console, transient=True, disable=as_json) as bar:
        task = bar.add_task(f"{n} tasks, four ways", total=4 * n)
        result = bench_routing(progress=lambda *_: bar.advance(task))
    if as_json:
        print_json(result.to_dict())
        return
    limits = ", ".join(f"{k} {v}" for k, v in result.thresholds.items())
    table = Table(title=f"{n} tasks: router {result.router_model}, local {result.local_model}, cloud = a fake "
                        f"(thresholds {limits}; budget ${result.budget:.2f})")
    for col in ("", "handled locally", "correct (checked tasks)", "cost $ (assumed prices)", "median s", "total s"):
        table.add_column(col)
    for s in result.runs.values():
        acc = f"{s.correct}/{s.checked}" if s.checked else "-"
        table.add_row(s.name, f"{s.local_share:.0%}", acc, f"{s.cost:.5f}", f"{s.median_s:.2f}", f"{s.total_s:.1f}")
    console.print(table)
    sweep = Table(title="other thresholds (from the baselines' answers; picked on this set, so optimistic)")
    for col in ("signal", "threshold", "handled locally", "correct (checked)", "cost $"):
        sweep.add_column(col)
    for row in result.sweep:
        sweep.add_row(row.signal, f"{row.threshold:.2f}", f"{row.local_share:.0%}", f"{row.correct}/{row.checked}",
                      f"{row.cost:.5f}")
    console.print(sweep)
    console.print(f"router agrees with the task labels on {result.router_agreement:.0%} of tasks")
    right, routine = result.routine_handled()
    console.print(f"{result.local_model} alone answers {right} of {routine} routine checked tasks correctly"
                  f" ({right / routine:.0%})" if routine else "no routine checked tasks")
    for name in ROUTED_RUNS:
        ratio = result.cost_ratio(name)
        console.print(f"cost, all cloud over {name}: {ratio:.1f}x" if ratio else f"{name} cost is zero")
    console.print(f"the source claims: {result.claims['local_share']}; {result.claims['cost_ratio']}")


def _bench_foundry(max_tokens: int, as_json: bool) -> None:
    from ..foundry.compare import compare

    with console.status("llama.cpp, then Foundry Local, each in a process of its own", spinner="dots") \
            if not as_json else contextlib.nullcontext():
        result = compare(max_tokens=max_tokens)
    if as_json:
        print_json(result.to_dict())
        return
    data = result.to_dict()["runs"]
    table = Table(title=f"SmolLM2-135M-Instruct, same source weights, {len(result.prompts)} prompts, "
                        f"greedy, up to {max_tokens} tokens")
    for col in ("", *(r["runtime"] for r in data)):
        table.add_column(col)
    rows = [("model file", [r["model_file"] for r in data]),
            ("load s", [f"{r['load_s']:.2f}" for r in data]),
            ("resident memory added by loading MB", [f"{r['rss_model'] / 1e6:.0f}" for r in data]),
            ("median time to first token s", [f"{r['median_ttft_s']:.3f}" for r in data]),
            ("median tokens/s after the first", [f"{r['median_tokens_per_s']:.1f}" for r in data]),
            ("agent task: tools called", [", ".join(r["agent_tools"]) or "none" for r in data])]
    for name, values in rows:
        table.add_row(name, *values)
    console.print(table)
    for prompt, ok, a, b, first in zip(result.prompts, result.agree, result.runs[0].answers,
                                       result.runs[1].answers, result.first_tokens):
        console.print(f"{'agree' if ok else 'differ'}: {prompt}\n  llama.cpp:     {a.strip()[:90]!r}\n"
                      f"  foundry-local: {b.strip()[:90]!r}", highlight=False)
        own, other = first["llama.cpp"], first["foundry-local"]
        if own["token"] != other["token"] and None not in (own["p"], other["p"]):
            console.print(f"  first tokens differ: {own['token']!r} (p = {own['p']:.3f} under the GGUF model) vs "
                          f"{other['token']!r} (p = {other['p']:.3f})", highlight=False)

