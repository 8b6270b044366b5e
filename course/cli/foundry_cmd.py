"""``course foundry prepare``: a registry model converted for Foundry Local and registered in its local catalog."""

from __future__ import annotations

import click

from .main import cli, console, friendly_errors, print_json


@cli.group()
def foundry() -> None:
    """Foundry Local (lesson 06): prepare a course model for it, offline."""


@foundry.command("prepare")
@click.option("--model", "alias", default="smollm2-135m", show_default=True, help="registry alias to convert")
@click.option("--force", is_flag=True, help="convert again even if an earlier run's folder is there")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@friendly_errors
def prepare(alias: str, force: bool, as_json: bool) -> None:
    """Convert MODEL's GGUF to an ONNX Runtime GenAI int4 folder in the course cache (once; about a minute
    for SmolLM2 on 2 cores) and register it in Foundry Local's local catalog (a second run reuses both)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from ..foundry.prepare import PrepareError, convert
    from ..foundry.runtime import FoundryUnavailableError, register

    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console,
                  transient=True, disable=as_json) as bar:
        task = bar.add_task(f"preparing {alias}", total=1.0)
        try:
            prepared = convert(alias, force=force,
                               progress=lambda stage, done: bar.update(task, completed=done, description=stage))
            _, registered_now = register(alias)
        except (PrepareError, FoundryUnavailableError) as exc:
            raise click.ClickException(str(exc)) from None
    data = prepared.to_dict() | {"registered_now": registered_now}
    if as_json:
        print_json(data)
        return
    verb = f"converted in {prepared.seconds:.0f} s" if prepared.converted else "already converted (reused)"
    console.print(f"{alias}: {verb}; {prepared.bytes / 1e6:.0f} MB at {prepared.folder}", highlight=False)
    for stage, seconds in prepared.stages.items():
        console.print(f"  {stage}: {seconds:.1f} s", highlight=False)
    console.print(f"Foundry Local's local catalog: {prepared.model_id} "
                  + ("registered now" if registered_now else "was already registered"), highlight=False)
