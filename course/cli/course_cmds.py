"""Course verbs: models, doctor, demo, bench."""

from __future__ import annotations

import importlib.util
import os
import platform
import sys
import time

import click
from rich.markup import escape
from rich.table import Table

from ..models import DEFAULT_MODEL, list_models, model_status
from ..i18n import N_, _
from .main import cli, console, friendly_errors, lang_option, print_json


def _mb(n: int) -> str:
    return f"{n / 1e6:,.0f} MB"


@cli.group(invoke_without_command=True)
@click.option("--verify", is_flag=True, help="join chunked models and check every sha256 now")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.pass_context
@friendly_errors
def models(ctx: click.Context, verify: bool, as_json: bool) -> None:
    """List the shipped models: alias, file, size, quantization, chat format, installed or not."""
    if ctx.invoked_subcommand is not None:
        return
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


@models.command("prepare")
@click.argument("alias", default=DEFAULT_MODEL)
@click.option("--form", type=click.Choice(["hf", "onnx"]), required=True,
              help="hf: a Hugging Face folder (float32); onnx: ONNX Runtime GenAI, int4 (made from hf)")
@click.option("--force", is_flag=True, help="make it again even if an earlier run's folder is there")
@click.option("--json", "as_json", is_flag=True, help="print only JSON")
@friendly_errors
def prepare_form(alias: str, form: str, force: bool, as_json: bool) -> None:
    """Make another form of a shipped model from its GGUF file, once, into the course cache."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from ..models.forms import prepare

    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console,
                  transient=True, disable=as_json) as bar:
        task = bar.add_task(f"preparing the {form} form of {alias}", total=1.0)
        prepared = prepare(alias, form, force=force,
                           progress=lambda stage, done: bar.update(task, completed=done, description=stage))
    if as_json:
        print_json(prepared.to_dict())
        return
    verb = f"made in {prepared.seconds:.0f} s" if prepared.converted else "already there (reused)"
    console.print(f"{alias}, {form} form: {verb}; {prepared.bytes / 1e6:.0f} MB at {prepared.folder}", highlight=False)
    for stage, seconds in prepared.stages.items():
        console.print(f"  {stage}: {seconds:.1f} s", highlight=False)


def _check(name: str, ok: bool, detail: str, fix: str = "", required: bool = True, *,
           label: tuple[str, dict] | None = None, about: tuple[str, dict] | None = None) -> dict:
    """One readiness check. ``label`` and ``about`` are the check's name and detail as messages to translate
    (with their values) for the table; the JSON keeps the English ``check`` and ``detail``."""
    found = {"check": name, "ok": ok, "detail": detail, "fix": "" if ok else fix, "required": required}
    if label:
        found["_label"] = label
    if about:
        found["_about"] = about
    return found


def _shown(check: dict, key: str, text_key: str) -> str:
    message = check.get(key)
    return _(message[0], **message[1]) if message else check[text_key]


def run_doctor() -> list[dict]:
    """Every readiness check, each with the fix for a problem."""
    from ..exercises.meta import CourseError, find_root

    from ..exercises.meta import parse_course

    checks = [_check("python", sys.version_info >= (3, 11), platform.python_version(),
                     "install Python 3.11 or newer")]
    course = None
    try:
        root = find_root()
        course = parse_course(root)
        checks.append(_check("course folder", True, str(root), label=(N_("course folder"), {})))
    except CourseError as exc:
        checks.append(_check("course folder", False, str(exc), "cd into the course checkout",
                             label=(N_("course folder"), {})))
    from importlib.metadata import PackageNotFoundError, version as dist_version

    for module, dist in (("llama_cpp", "llama-cpp-python"), ("openai", "openai"), ("ollama", "ollama"),
                         ("rich", "rich"), ("hypothesis", "hypothesis"), ("gguf", "gguf")):
        found = importlib.util.find_spec(module) is not None
        try:
            version = dist_version(dist) if found else "missing"
        except PackageNotFoundError:
            version = "installed"
        checks.append(_check(f"package {dist}", found, version, f"pip install {dist}",
                             label=(N_("package {name}"), {"name": dist})))
    # the optional parts, as course.toml declares them, with the lessons that use each
    for extra in (course.extras.values() if course else ()):
        missing = [m for m in extra.modules if importlib.util.find_spec(m) is None]
        users = ", ".join(lesson.short for lesson in course.all_lessons if extra.name in lesson.extras)
        detail = f"missing {', '.join(missing)}" if missing else "installed"
        label = ((N_("extra {name} (lessons {lessons})"), {"name": extra.name, "lessons": users}) if users
                 else (N_("extra {name}"), {"name": extra.name}))
        about = ((N_("missing {modules}: {about}"), {"modules": ", ".join(missing), "about": extra.about}) if missing
                 else (N_("installed: {about}"), {"about": extra.about}))
        checks.append(_check(f"extra {extra.name}" + (f" (lessons {users})" if users else ""), not missing,
                             f"{detail}: {extra.about}", extra.pip, required=False, label=label, about=about))
    for entry in list_models():
        status = model_status(entry.alias)
        joined = status.path is None and status.installed
        checks.append(_check(f"model {entry.alias}", status.installed,
                             str(status.path or ("chunks installed, joined on first use" if status.installed else "")),
                             status.problem, required=entry.alias == DEFAULT_MODEL,
                             label=(N_("model {name}"), {"name": entry.alias}),
                             about=(N_("chunks installed, joined on first use"), {}) if joined else None))
    from ..foundry.prepare import is_converted, onnx_folder

    prepared = is_converted(DEFAULT_MODEL)
    checks.append(_check(f"Foundry Local: {DEFAULT_MODEL} prepared", prepared,
                         str(onnx_folder(DEFAULT_MODEL)) if prepared else "not yet (lesson 06 only)",
                         "course foundry prepare", required=False,
                         label=(N_("Foundry Local: {model} prepared"), {"model": DEFAULT_MODEL}),
                         about=None if prepared else (N_("not yet (lesson 06 only)"), {})))
    from ..backends.llama_loader import idle_cores

    idle = idle_cores(0.2)
    idle_text = f"{idle:.1f} idle now" if idle is not None else "idle cores unknown"
    checks.append(_check("CPU threads", True, f"{os.cpu_count()} cores, {idle_text}: llama.cpp gets one thread per "
                         "core idle when a model loads (two threads on one busy core collapse); "
                         "COURSE_THREADS=N overrides", label=(N_("CPU threads"), {}),
                         about=(N_("{cores} cores, {idle}: llama.cpp gets one thread per core idle when a model loads "
                                   "(two threads on one busy core collapse); COURSE_THREADS=N overrides"),
                                {"cores": os.cpu_count(),
                                 "idle": _("{idle} idle now", idle=format(idle, ".1f")) if idle is not None
                                 else _("idle cores unknown")})))
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
@lang_option
def doctor(as_json: bool) -> None:
    """Check that everything the course needs is ready, with the fix for each problem."""
    checks = run_doctor()
    bad = [c for c in checks if not c["ok"] and c["required"]]
    if as_json:
        print_json([{k: v for k, v in c.items() if not k.startswith("_")} for c in checks])
    else:
        table = Table(title="course doctor")
        for col in ("", _("check"), _("detail"), _("fix")):
            table.add_column(col)
        for c in checks:
            mark = "[green]✓[/]" if c["ok"] else ("[red]✗[/]" if c["required"] else "[yellow]![/]")
            table.add_row(mark, _shown(c, "_label", "check"), escape(_shown(c, "_about", "detail")), escape(c["fix"]))
        console.print(table)
        console.print(_("[green]Ready.[/]") if not bad else _("[red]{n} problem(s) to fix first.[/]", n=len(bad)))
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
