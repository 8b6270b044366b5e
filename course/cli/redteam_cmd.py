"""``course redteam garak-setup``: NVIDIA's garak in an environment of its own, for ``course bench garak`` (lesson 10)."""

from __future__ import annotations

import click

from .main import cli, friendly_errors, report_setup


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

    report_setup("garak", setup, GarakSetupError, force=force, as_json=as_json)
