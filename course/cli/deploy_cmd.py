"""``course deploy check``: lesson 09's deployment files, checked before anything starts."""

from __future__ import annotations

from pathlib import Path

import click

from .main import cli, console, err_console, friendly_errors, print_json


@cli.group()
def deploy() -> None:
    """Deployment files (lesson 09): check one before you start agents from it."""


@deploy.command("check")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--example", type=click.Choice(["single_device", "distributed_edge"]),
              help="check one of the course's example files instead (and print its path)")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@friendly_errors
def check(file: Path | None, example: str | None, as_json: bool) -> None:
    """Check FILE against the schema and its cross-references; every problem with its path. Exit 1 if any."""
    from ..framework.config import DeploymentError, load_deployment, shipped_deployment

    if (file is None) == (example is None):
        raise click.UsageError("give a FILE or --example single_device|distributed_edge")
    path = shipped_deployment(example) if example else file
    try:
        config = load_deployment(path)
    except DeploymentError as exc:
        if as_json:
            print_json({"file": str(path), "valid": False, "problems": exc.problems})
        else:
            err_console.print(f"[red]{path}[/]: {len(exc.problems)} problem(s)", highlight=False)
            for problem in exc.problems:
                err_console.print(f"  - {problem}", highlight=False, markup=False)
        raise SystemExit(1) from None
    summary = {"file": str(path), "valid": True, "mode": config["deployment"]["mode"],
               "models": [m["name"] for m in config["models"]], "agents": [a["name"] for a in config["agents"]],
               "nodes": [n["name"] for n in config.get("nodes", [])]}
    if as_json:
        print_json(summary)
        return
    console.print(f"[green]valid[/]: {path}", highlight=False)
    console.print(f"  {summary['mode']}: {len(summary['models'])} model(s), {len(summary['agents'])} agent(s)"
                  + (f", {len(summary['nodes'])} node(s)" if summary["nodes"] else ""), highlight=False)
