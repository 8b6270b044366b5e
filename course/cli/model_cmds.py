"""Model-file verbs: ``course inspect``."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from ..exercises.meta import CourseError
from ..models import model_path
from .main import cli, console, err_console, friendly_errors, print_json, spinner


def resolve_model_file(model: str) -> Path:
    """A registry alias (``smollm2-135m``) or the path of a ``.gguf`` file."""
    path = Path(model).expanduser()
    if path.suffix == ".gguf" or path.exists():
        if not path.is_file():
            raise CourseError(f"{model} is not a file: give a .gguf path or an alias from `course models`")
        return path
    return model_path(model)


@cli.command()
@click.argument("model")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@friendly_errors
def inspect(model: str, as_json: bool) -> None:
    """Read a GGUF model's header: architecture, sizes, and the quantization of its tensors.

    MODEL is an alias from `course models` or the path of a .gguf file. Only
    the header is read (with the course's own reader, course.formats), never
    the weights.
    """
    from ..formats import GGUFError, read_gguf, summarize

    try:
        info = summarize(read_gguf(resolve_model_file(model)))
    except GGUFError as exc:
        raise CourseError(str(exc)) from None
    if as_json:
        print_json(info)
        return
    facts = Table(title=f"{info['name'] or model}: {Path(info['file']).name}", show_header=False)
    facts.add_column("fact")
    facts.add_column("value")
    rows = [
        ("architecture", info["architecture"]),
        ("parameters", f"{info['parameters']:,}"),
        ("file size", f"{info['file_bytes']:,} bytes ({info['bits_per_weight']:.2f} bits per weight on average)"),
        ("context length", info["context_length"]),
        ("layers", info["layers"]),
        ("embedding length", info["embedding_length"]),
        ("attention heads (KV heads)", f"{info['heads']} ({info['kv_heads']})"),
        ("head size", info["head_size"]),
        ("vocabulary", info["vocabulary"]),
        ("chat template", "yes" if info["chat_template"] else "no (a base model: use completion, not chat)"),
        ("GGUF version, metadata keys, tensors", f"{info['gguf_version']}, {info['metadata_keys']}, {info['tensors']}"),
        ("header (metadata + tensor infos)", f"{info['header_bytes']:,} bytes, data aligned to {info['alignment']}"),
    ]
    for k, v in rows:
        facts.add_row(k, str(v))
    console.print(facts)
    types = Table(title="Where the bytes go")
    for col in ("type", "tensors", "parameters", "bytes", "share of file", "bits/weight"):
        types.add_column(col, justify="right" if col != "type" else "left")
    for t in info["tensor_types"]:
        types.add_row(t["type"], str(t["tensors"]), f"{t['parameters']:,}", f"{t['bytes']:,}",
                      f"{t['share_of_file']:.1%}", f"{t['bits_per_weight']:.2f}")
    console.print(types)


@cli.command()
@click.option("--model", "models", multiple=True, default=["smollm2-135m"], show_default=True,
              help="registry model to build the ladder from (repeat for several)")
@click.option("--levels", default=None, help="comma-separated levels (default: F16,Q8_0,Q5_1,Q5_K_S,Q4_K_M,Q4_0,Q2_K)")
@click.option("--threads", default=2, show_default=True, help="llama.cpp threads for quantizing and measuring")
@click.option("--gen-tokens", default=64, show_default=True, help="tokens generated to time generation speed")
@click.option("--text", "text_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="measure perplexity on this UTF-8 text instead of the course's evaluation text")
@click.option("--force", is_flag=True, help="rebuild the files and measure again instead of using the cache")
@click.option("--report", "report_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="also write the results JSON, Markdown tables and SVG figures into this folder")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@friendly_errors
def claims(models: tuple[str, ...], levels: str | None, threads: int, gen_tokens: int, text_file: str | None,
           force: bool, report_dir: Path | None, as_json: bool) -> None:
    """Check the source's quantization claims on real files built from a shipped model.

    Builds a ladder of GGUF files with llama.cpp's own quantizer (the F16
    baseline is the shipped weights, dequantized), measures each in a fresh
    process (size, bits per weight, load time, prompt and generation speed,
    perplexity on the course's evaluation text), and prints a verdict per
    claim. Files and measurements are cached; --force redoes them.
    """
    from ..quant.claims import (device_guidance, results_path, run_claims, size_table_verdicts,
                                write_report)
    from ..quant.ladder import LadderError

    level_list = [lv.strip().upper() for lv in levels.split(",")] if levels else None
    everything = []
    for alias in models:
        try:
            with spinner(f"{alias}: starting", quiet=as_json) as status:
                results = run_claims(alias, level_list, threads=threads, gen_tokens=gen_tokens, force=force,
                                     text_file=str(Path(text_file).resolve()) if text_file else None,
                                     progress=status.update if status else None)
        except (LadderError, RuntimeError) as exc:
            raise CourseError(str(exc)) from None
        results["devices"] = device_guidance(results)
        everything.append(results)
        if report_dir:
            for path in write_report(results, report_dir):
                (err_console if as_json else console).print(f"wrote {path}")  # stdout carries only the JSON
        if as_json:
            continue
        t = Table(title=f"{alias}: the ladder (baseline F16 = the shipped {results['shipped_quantization']} weights)")
        for col in ("level", "MB", "bits/w", "fallback", "load s", "prompt tok/s", "gen tok/s", "perplexity"):
            t.add_column(col, justify="left" if col == "level" else "right")
        for r in [*results["rungs"], results["shipped"]]:
            fb = f"{r['fallback_tensors']}/{r['tensors']}" if "fallback_tensors" in r else "-"
            t.add_row(r["level"], f"{r['file_bytes'] / 1e6:.1f}", f"{r['bits_per_weight']:.2f}", fb,
                      f"{r['load_s']:.2f}", f"{r['prompt_tokens_per_s']:.0f}", f"{r['gen_tokens_per_s']:.0f}",
                      f"{r['perplexity']:.2f}")
        console.print(t)
        _print_verdicts(f"{alias}: the source's claims", results["verdicts"])
        g = Table(title=f"{alias}: which level for which device (budgets are assumptions)")
        for col in ("device", "level", "why"):
            g.add_column(col)
        for row in results["devices"]:
            g.add_row(row["device"], row["level"] or "none", row["reason"])
        console.print(g)
        console.print(f"cached in {results_path(alias)}; --force measures again")
    sizes = size_table_verdicts()
    if as_json:
        print_json({"models": everything, "size_table": sizes})
    else:
        _print_verdicts("The source's size table, from public parameter counts", sizes)


def _print_verdicts(title: str, rows: list[dict]) -> None:
    t = Table(title=title)
    for col in ("claim", "measured", "verdict", "rule"):
        t.add_column(col)
    for v in rows:
        colour = {"holds": "green", "does not hold": "red"}.get(v["verdict"], "yellow")
        t.add_row(v["claim"], v["measured"], f"[{colour}]{v['verdict']}[/]", v["rule"])
    console.print(t)
