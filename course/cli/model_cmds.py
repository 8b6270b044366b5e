"""Model-file verbs: ``course inspect``."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from ..exercises.meta import CourseError
from ..models import model_path
from .main import cli, console, friendly_errors, print_json


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
