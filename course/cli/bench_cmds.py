"""``course bench``: every benchmark of the course, one subcommand each.

Each prints its figures beside a reference measured in the same run, and with
``--json`` prints only JSON on standard output. ``course bench`` alone runs
``generation``. The lesson that owns a benchmark names it in ``course.toml``
(``benchmarks``); ``course dev check`` checks that each is a subcommand here.
"""

from __future__ import annotations

import click
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from ..models import DEFAULT_MODEL
from .course_cmds import _mb
from .main import cli, console, err_console, friendly_errors, print_json, spinner

model_option = click.option("--model", default=DEFAULT_MODEL, show_default=True, help="registry alias of the model")
json_option = click.option("--json", "as_json", is_flag=True, help="print only JSON")
save_option = click.option("--save", is_flag=True,
                           help="commit the figures as the lesson's data and rewrite its page's tables from them")


def save_figures(name: str, data: dict, *, model: str | None = None) -> None:
    """``--save``: the result into ``lessons/<lesson>/data/``, then the page's tables from it."""
    import sys

    from ..bench.record import save, sync
    from ..exercises.meta import find_root, parse_course

    course = parse_course(find_root())
    command = "course " + " ".join(sys.argv[1:])
    path = save(course, name, data, command=command, model=model)
    err_console.print(f"saved {path.relative_to(course.root)}", highlight=False)
    for page in sync(course, [name]):
        err_console.print(f"wrote {page.relative_to(course.root)}", highlight=False)


def print_tables(tables) -> None:
    """Each ``(title, header, rows)`` as a rich table."""
    for title, header, rows in tables:
        table = Table(title=title)
        for col in header:
            table.add_column(col)
        for row in rows:
            table.add_row(*(str(c) for c in row))
        console.print(table)


def runs_option(default: int):
    return click.option("--runs", default=default, show_default=True,
                        help="runs of each, interleaved; medians are reported")


max_tokens_option = click.option("--max-tokens", default=64, show_default=True)


def generation_options(func):
    """--model, --runs, --max-tokens and --json: the options of a benchmark that generates from a model."""
    for option in (save_option, json_option, max_tokens_option, runs_option(5), model_option):
        func = option(func)
    return func


@cli.group(invoke_without_command=True)
@click.pass_context
def bench(ctx: click.Context) -> None:
    """Benchmarks, each beside a reference from the same run (alone: `course bench generation`)."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(generation)


@bench.command()
@generation_options
@friendly_errors
def generation(model: str = DEFAULT_MODEL, runs: int = 5, max_tokens: int = 64, as_json: bool = False,
               save: bool = False) -> None:
    """Time to first token and tokens/s of the course backend beside raw llama-cpp-python (lesson 00)."""
    from ..bench.generation import bench_generation

    with Progress(console=console, transient=True, disable=as_json) as bar:
        task = bar.add_task(f"benchmarking {model}", total=runs)
        result = bench_generation(model, runs=runs, max_tokens=max_tokens,
                                  progress=lambda done, total: bar.update(task, completed=done))
    if save:
        save_figures("generation", result.to_dict(), model=model)
    if as_json:
        print_json(result.to_dict())
        return
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


@bench.command()
@model_option
@runs_option(5)
@json_option
@save_option
@friendly_errors
def grammar(model: str, runs: int, as_json: bool, save: bool) -> None:
    """The cost of grammar-constrained tool calls in decode speed (lesson 00)."""
    from ..bench.generation import bench_tool_grammar

    with spinner(f"benchmarking tool-call grammar on {model} ...", as_json):
        cost = bench_tool_grammar(model, runs=runs)
    if save:
        save_figures("grammar", cost.to_dict(), model=model)
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


@bench.command()
@click.option("--submissions", default=30, show_default=True, help="the class size")
@click.option("--lesson", "lessons", multiple=True, help="only this lesson (repeatable; default all)")
@click.option("--repeats", default=3, show_default=True, help="runs of one submission per isolation mode (median)")
@json_option
@friendly_errors
def grading(submissions: int, lessons: tuple[str, ...], repeats: int, as_json: bool) -> None:
    """Grading time: one submission, then a class serially and in parallel, and what isolation costs."""
    from ..bench.grading import bench_grading

    with Progress(console=console, transient=True, disable=as_json) as bar:
        task = bar.add_task(f"grading {submissions} submissions twice", total=2 * submissions)
        result = bench_grading(submissions, progress=lambda *_: bar.advance(task), lessons=list(lessons) or None,
                               repeats=repeats)
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
    iso = Table(title=f"one complete submission, by how it is isolated (median of {repeats})")
    for col in ("mode", "seconds", "vs the old path"):
        iso.add_column(col)
    labels = {"inprocess": "old path: the submission in the tests' process (reference)",
              "process": "two processes, values exchanged (--no-isolation)",
              "bwrap": "two processes, the submission's under bubblewrap (default)"}
    base = result.isolation_s.get("inprocess") or 0.0
    for mode, seconds in result.isolation_s.items():
        iso.add_row(labels[mode], f"{seconds:.1f}", f"{seconds / base:.2f}x" if base else "")
    console.print(iso)
    if result.isolation_note:
        console.print(f"bubblewrap not measured: {result.isolation_note}")
    console.print(f"speed-up from {result.workers} workers: {result.speedup:.2f}x"
                  + ("" if result.all_full_points else "  [red](some copies did not get full points!)[/]"))
    for line in result.shortfalls[:10]:
        console.print(f"  [red]not full:[/] {line}", highlight=False)


@bench.command()
@generation_options
@friendly_errors
def serving(model: str, runs: int, max_tokens: int, as_json: bool, save: bool) -> None:
    """course serve's per-request overhead per protocol face, and throughput with 1, 2, 4 clients (lesson 07)."""
    from ..bench.serving import bench_serving

    with Progress(console=console, transient=True, disable=as_json) as bar:
        task = bar.add_task(f"{runs} runs per path, then 1, 2, 4 clients", total=5)
        result = bench_serving(model, runs=runs, max_tokens=max_tokens, progress=lambda: bar.advance(task))
    if save:
        save_figures("serving", result.to_dict())
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
    console.print("end to end through the official clients (connections kept open), over in process: "
                  f"OpenAI face {result.end_to_end_ratio('openai'):.2f}x, "
                  f"Ollama face {result.end_to_end_ratio('ollama'):.2f}x")
    table = Table(title="throughput through the Ollama face (one generation at a time)")
    for col in ("clients", "requests", "tokens/s", "latency p50 ms", "latency p95 ms"):
        table.add_column(col)
    for t in result.throughput:
        table.add_row(str(t.clients), str(t.requests), f"{t.tokens_per_s:.1f}", f"{t.latency.p50_ms:.0f}",
                      f"{t.latency.p95_ms:.0f}")
    console.print(table)


@bench.command()
@json_option
@save_option
@friendly_errors
def routing(as_json: bool, save: bool) -> None:
    """Lesson 05's task set all local, routed, as a cascade and all cloud: share, accuracy, cost."""
    from ..routing.bench import ROUTED_RUNS, bench_routing
    from ..routing.router import load_tasks

    n = len(load_tasks())
    with Progress(console=console, transient=True, disable=as_json) as bar:
        task = bar.add_task(f"{n} tasks, four ways", total=4 * n)
        result = bench_routing(progress=lambda *_: bar.advance(task))
    if save:
        save_figures("routing", result.to_dict())
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


@bench.command()
@max_tokens_option
@json_option
@save_option
@friendly_errors
def foundry(max_tokens: int, as_json: bool, save: bool) -> None:
    """SmolLM2 on llama.cpp (GGUF) beside Foundry Local (ONNX int4): load, speed, memory, answers (lesson 06)."""
    from ..foundry.compare import compare

    with spinner("llama.cpp, then Foundry Local, each in a process of its own", as_json):
        result = compare(max_tokens=max_tokens)
    if save:
        save_figures("foundry", result.to_dict() | {"max_tokens": max_tokens})
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



@bench.command()
@model_option
@click.option("--max-tokens", default=64, show_default=True, help="tokens generated per run")
@click.option("--repeats", default=3, show_default=True, help="timed generations per runtime (medians)")
@click.option("--runtime", "runtimes", multiple=True, type=click.Choice(["llama.cpp", "onnxruntime-genai",
              "onnxruntime", "mlx"]), help="only this runtime (repeatable; default all that are installed)")
@json_option
@save_option
@friendly_errors
def runtimes(model: str, max_tokens: int, repeats: int, runtimes: tuple[str, ...], as_json: bool,
             save: bool) -> None:
    """llama.cpp, ONNX Runtime GenAI, plain ONNX Runtime and MLX on the same token ids, against the roofline (lesson 04)."""
    from ..runtimes.compare import RUNTIMES, bench_runtimes

    chosen = runtimes or RUNTIMES
    with spinner(f"{', '.join(chosen)}: each in a process of its own", as_json):
        result = bench_runtimes(model, max_tokens=max_tokens, repeats=repeats, runtimes=tuple(chosen))
    if save:
        save_figures("runtimes", result, model=None)
    if as_json:
        print_json(result)
        return
    from ..bench.record import runtime_rows

    table = Table(title=f"{model}: {result['prompt_tokens']} prompt tokens, {max_tokens} generated greedily, "
                        f"{repeats} runs each (medians), {result['threads']} threads; memory bandwidth "
                        f"{result['bandwidth_gb_s']:.1f} GB/s")
    for col in ("", *(r["runtime"] for r in result["rows"])):
        table.add_column(col)
    for label, *cells in runtime_rows(result):
        table.add_row(label, *cells)
    console.print(table)
    for runtime, why in result["skipped"].items():
        console.print(f"[yellow]skipped {runtime}[/]: {why}", highlight=False)


@bench.command()
@model_option
@runs_option(3)
@click.option("--prompt-tokens", default=400, show_default=True)
@click.option("--gen-tokens", default=64, show_default=True)
@click.option("--threads", default=2, show_default=True, help="the baseline's threads")
@json_option
@save_option
@friendly_errors
def knobs(model: str, runs: int, prompt_tokens: int, gen_tokens: int, threads: int, as_json: bool,
          save: bool) -> None:
    """llama.cpp's knobs, each row a change from the baseline, with a busy core too: speeds and buffers (lesson 04)."""
    from ..runtimes.knobs import bench_knobs, default_rows

    rows = default_rows(threads)
    with Progress(console=console, transient=True, disable=as_json) as bar:
        task = bar.add_task(f"{len(rows)} settings x {runs} runs, a fresh process each", total=runs * len(rows))
        result = bench_knobs(model, runs=runs, n_prompt=prompt_tokens, n_gen=gen_tokens, rows=rows,
                             progress=lambda done, total: bar.update(task, completed=done, total=total))
    if save:
        save_figures("knobs", result, model=None)
    if as_json:
        print_json(result)
        return
    table = Table(title=f"{model}: {prompt_tokens}-token prompt, {gen_tokens} tokens generated, {runs} runs per row "
                        "interleaved (medians); buffers as llama.cpp reports them, predicted in brackets")
    for col in ("setting", "prompt tok/s", "decode tok/s", "load s", "KV cache MiB", "compute MiB"):
        table.add_column(col)
    for r in result["rows"]:
        if "refused" in r:
            table.add_row(r["label"], f"[red]refused[/]: {escape(r['refused'].split(':')[0])}", "", "", "", "")
            continue
        if "gen_tokens_per_s" not in r:
            table.add_row(r["label"], f"timed out ({r['timed_out']} of {r['runs']} runs)", "", "", "", "")
            continue
        table.add_row(r["label"], f"{r['prompt_tokens_per_s']:.0f}", f"{r['gen_tokens_per_s']:.1f}",
                      f"{r['load_s']:.2f}", f"{r['kv_cache_mib']:.1f} ({r['predicted_kv_cache_mib']:.1f})",
                      f"{r['compute_mib']:.1f} ({r['predicted_compute_mib']:.1f})")
    console.print(table)


@bench.command("vllm")
@model_option
@click.option("--max-tokens", default=32, show_default=True, help="tokens per reply in the throughput runs")
@json_option
@save_option
@friendly_errors
def vllm_bench(model: str, max_tokens: int, as_json: bool, save: bool) -> None:
    """vLLM beside course serve and llama.cpp: 1 to 64 clients, prefix cache, preemption, n-gram speculation (lesson 08)."""
    from ..bench.record import vllm_tables
    from ..bench.vllm import bench_vllm

    with spinner("vLLM, course serve and llama.cpp, one after another (a few minutes)", as_json) as status:
        result = bench_vllm(model, max_tokens=max_tokens,
                            progress=(lambda text: status.update(text)) if status else None)
    if save:
        save_figures("vllm", result, model=None)
    if as_json:
        print_json(result)
        return
    print_tables(vllm_tables(result))


@bench.command("garak")
@model_option
@click.option("--probe", "probes", multiple=True,
              help="only this probe of the course's offline set, e.g. goodside.WhoIsRiley (repeatable; default all)")
@click.option("--timeout", default=1500.0, show_default=True, help="seconds garak may take")
@json_option
@save_option
@friendly_errors
def garak_bench(model: str, probes: tuple[str, ...], timeout: float, as_json: bool, save: bool) -> None:
    """NVIDIA's garak against course serve's OpenAI face, offline: ten probes (prompt injection, encodings,
    latent injection, SQL echo, markdown exfiltration, malware), attack success per probe (lesson 10)."""
    import shutil

    from ..bench.serving import course_serve
    from ..production.garak import PROBES, garak_home, require_setup, run_garak

    require_setup()  # before a server is started for nothing
    chosen = list(probes) or list(PROBES)
    workdir = garak_home() / "runs" / model  # kept until the next run, so a failure's log can be read
    shutil.rmtree(workdir, ignore_errors=True)
    with (spinner(f"garak: {len(chosen)} probes against course serve with {model} (a few minutes)", as_json),
          course_serve(model) as url):
        result = run_garak(url + "/v1", model, chosen, workdir, timeout=timeout)
    if save:
        save_figures("garak", result, model=model)
    if as_json:
        print_json(result)
        return
    s = result["settings"]
    table = Table(title=f"garak {result['garak']} against course serve ({model}): {s['generations']} generation per "
                        f"prompt, up to {s['soft_probe_prompt_cap']} prompts per probe, {s['max_tokens']} tokens, "
                        f"temperature {s['temperature']:g}")
    for col in ("probe", "detector", "attempts", "attack success"):
        table.add_column(col, overflow="fold")
    for row in result["rows"]:
        rate = "-" if row["attack_success_rate"] is None else f"{row['hits']}/{row['total']} " \
                                                              f"({row['attack_success_rate']:.0%})"
        table.add_row(row["probe"], row["detector"], str(row["total"] + row["nones"]), rate)
    console.print(table)
    console.print(f"{result['hits']} of {result['attempts']} attempts succeeded; garak ran {result['seconds']:.0f} s, "
                  f"offline (garak's files: {workdir})", highlight=False)
