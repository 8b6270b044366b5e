"""``course redteam garak-setup``: NVIDIA's garak in an environment of its own, for ``course bench garak`` (lesson 10)."""

from __future__ import annotations

import click

from .main import cli, console, friendly_errors, print_json, spinner


@cli.group()
def redteam() -> None:
    """Red-teaming (lesson 10): set up garak, the LLM vulnerability scanner, to probe `course serve` offline."""


@redteam.command("garak-setup")
@click.option("--force", is_flag=True, help="make the environment again even if one is ready")
@click.option("--json", "as_json", is_flag=True, help="print only JSON")
@friendly_errors
def garak_setup_cmd(force: bool, as_json: bool) -> None:
    """Install garak (without torch or its other heavy dependencies) in an environment of its own in the course
    cache (under a minute, once), beside the course's; `course bench garak` then runs its offline probes."""
    from ..production.garak import GarakSetupError, setup

    with spinner("setting up garak", as_json) as status:
        try:
            result = setup(force=force, progress=(lambda text: status.update(text)) if status else None)
        except GarakSetupError as exc:
            raise click.ClickException(str(exc)) from None
    if as_json:
        print_json(result.to_dict())
        return
    done = f"set up in {result.seconds:.0f} s" if result.made else "already set up (kept)"
    console.print(f"garak {result.version}: {done}, at {result.folder}", highlight=False)
