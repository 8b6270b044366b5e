"""``course eval``: a reference agent (or your capstone agent) run on a task file and scored (lesson 11)."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import click
from rich.table import Table

from .main import cli, console, err_console, friendly_errors, print_json


@cli.command("eval")
@click.argument("agent", type=click.Choice(["kiosk", "clinic", "project"]))
@click.option("--project", "project_file", type=click.Path(dir_okay=False, path_type=Path),
              help="with AGENT 'project': your capstone file (default: exercises/l11_capstone/capstone.py)")
@click.option("--tasks", "tasks_file", type=click.Path(dir_okay=False, path_type=Path),
              help="a task file (JSON lines); default: the agent's public tasks")
@click.option("--model", default="smollm2-135m", show_default=True,
              help="registry alias of the local model, or 'simulated' (the graders' simulated small model)")
@click.option("--url", help="a running `course serve` (http://127.0.0.1:11434): the agent talks to it over HTTP")
@click.option("--cloud/--no-cloud", default=True, show_default=True,
              help="escalate hard questions to the fake cloud (its latency and prices are assumptions)")
@click.option("--offline", is_flag=True, help="run again with the cloud cut, and report what is kept")
@click.option("--loop", type=click.Choice(["guided", "free"]), default="guided", show_default=True,
              help="guided: rules first, calls constrained, then a fresh answer; free: lesson 00's loop")
@click.option("--limit", type=click.IntRange(1), help="only the first N tasks")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), help="write an SVG: success vs p95 latency")
@click.option("--json", "as_json", is_flag=True, help="print only JSON")
@friendly_errors
def eval_cmd(agent: str, project_file: Path | None, tasks_file: Path | None, model: str, url: str | None,
             cloud: bool, offline: bool, loop: str, limit: int | None, plot: Path | None, as_json: bool) -> None:
    """Run AGENT (kiosk, clinic, or your capstone project) on a task file: success, tool accuracy, refusals,
    latency, tokens, cost."""
    from ..capstone.agents import AGENTS
    from ..capstone.cloud import TaskCloud
    from ..capstone.evaluate import evaluate, offline_reliability
    from ..capstone.tasks import load_tasks, public_tasks

    build, check_privacy = None, None
    if agent == "project":
        from ..capstone.project import check_project, load_project

        module = load_project(project_file)
        chosen = check_project(module)
        agent, build, check_privacy = chosen.agent, module.build, True
    elif project_file is not None:
        raise click.UsageError("--project goes with AGENT 'project': course eval project --project FILE")
    _, handoff, tools = AGENTS[agent]
    tasks = load_tasks(tasks_file or public_tasks(agent), tools=set(tools))[:limit]
    if model == "simulated":
        from ..capstone.simulated import SimulatedSLM

        if url:
            raise click.UsageError("--model simulated runs in this process; leave out --url")
        local = SimulatedSLM(tasks)
    elif url:
        from ..backends.openai_compat import OpenAICompatBackend

        local = OpenAICompatBackend(url.rstrip("/") + "/v1", model)
    else:
        from ..backends.llama_cpp import LlamaCppBackend

        local = LlamaCppBackend(model, reuse_prefix=True)
    fake = TaskCloud(tasks, handoff) if cloud else None
    runs = []
    with console.status(f"{agent} on {model}: {len(tasks)} tasks", spinner="dots") if not as_json else nullcontext():
        options = dict(model=model, loop=loop, build=build, check_privacy=check_privacy)
        runs.append(evaluate(agent, tasks, local, cloud=fake, **options))
        if offline and fake is not None:
            fake.online = False
            runs.append(evaluate(agent, tasks, local, cloud=fake, **options))
    data = {"runs": [r.to_dict() for r in runs]}
    if len(runs) == 2:
        data["offline"] = offline_reliability(runs[0], runs[1])
    if plot:
        from ..plot import scatter_chart

        points = [(f"{r.model}, cloud {r.cloud}", r.summary()["latency_p95_s"], r.summary()["success_rate"])
                  for r in runs]
        plot.write_text(scatter_chart(points, title=f"{agent}: success rate against p95 latency",
                                      x_label="p95 latency per task (s)", y_label="success rate", y_from_zero=True))
        err_console.print(f"wrote {plot}")
    if as_json:
        print_json(data)
        return
    for run in runs:
        s = run.summary()
        table = Table(title=f"{agent} on {s['model']}, cloud: {s['cloud']} ({s['tasks']} tasks)")
        for col in ("figure", "value"):
            table.add_column(col)
        for key in ("success_rate", "success_routine", "success_hard", "tool_accuracy", "refusal_rate_where_required",
                    "handoff_rate_where_required", "refusals_where_not_required", "crashes", "latency_p50_s",
                    "latency_p95_s", "local_tokens", "cloud_tokens", "cloud_calls", "cloud_cost_usd",
                    "local_cost_usd", "personal_data_leaks"):
            table.add_row(key.replace("_", " "), str(s[key]))
        console.print(table)
        failed = [x for x in run.results if not x.success]
        for x in failed[:8]:
            console.print(f"  [red]{x.id}[/] ({x.category}): {'; '.join(x.failures)}", highlight=False)
        if len(failed) > 8:
            console.print(f"  ... and {len(failed) - 8} more failed tasks (--json lists them all)")
    if "offline" in data:
        o = data["offline"]
        console.print(f"with the cloud cut: success {o['success_offline']} (online {o['success_online']}), "
                      f"crashes {o['crashes_offline']}")


@cli.group()
def capstone() -> None:
    """Start the capstone project (lesson 11): your own edge agent, graded by `course check l11`."""


@capstone.command("new")
@click.argument("area", metavar="AREA")
@click.option("--to", "dest", type=click.Path(dir_okay=False, path_type=Path),
              help="where to write it (default: exercises/l11_capstone/capstone.py)")
@click.option("--force", is_flag=True, help="replace a capstone.py you have changed (it is kept as a .bak file)")
@friendly_errors
def capstone_new(area: str, dest: Path | None, force: bool) -> None:
    """Write the start of a capstone agent for AREA (customer-service or healthcare) where `course check l11`
    grades it."""
    from ..capstone.project import AREAS, new_project

    stub = None
    if dest is None:
        from ..exercises.generate import lesson_files
        from ..exercises.meta import load_course

        course = load_course()
        lesson = course.lesson("l11")
        dest = course.exercises_dir / lesson.slug / "capstone.py"
        stub = lesson_files(course, lesson).get("capstone.py")
    backup = new_project(area, dest, force=force, stub=stub)
    if backup is not None:
        console.print(f"your previous capstone.py is kept as {backup}", highlight=False)
    console.print(f"wrote {dest}: {AREAS[area].what}.", highlight=False)
    console.print("Next: `course eval project --model simulated` for the figures, `course check l11` for the "
                  "points.", highlight=False)


def _bench_group():
    from .bench_cmds import bench

    return bench


@_bench_group().command("capstone")
@click.option("--model", "models", multiple=True, default=("smollm2-135m", "qwen2.5-coder-0.5b"), show_default=True,
              help="registry alias of the local model (repeatable)")
@click.option("--runtime", "runtimes", multiple=True, default=("llama.cpp",), show_default=True,
              type=click.Choice(["llama.cpp", "onnxruntime-genai", "mlx"]),
              help="the runtimes to run the agents on (repeatable; other than llama.cpp: the guided loop alone)")
@click.option("--limit", type=click.IntRange(1), help="only the first N public tasks of each agent")
@click.option("--json", "as_json", is_flag=True, help="print only JSON")
@click.option("--save", is_flag=True, help="commit the figures as the lesson's data and rewrite its page's tables")
@friendly_errors
def capstone_bench(models: tuple[str, ...], runtimes: tuple[str, ...], limit: int | None, as_json: bool,
                   save: bool) -> None:
    """Both reference agents on their public tasks: each model alone, with the fake cloud, and with the cloud cut."""
    from ..capstone.bench import bench_capstone

    with console.status("the reference agents, model by model (minutes)", spinner="dots") if not as_json \
            else nullcontext() as status:
        result = bench_capstone(list(models), limit=limit, runtimes=runtimes,
                                progress=(lambda text: status.update(text)) if status else None)
    if save:
        from .bench_cmds import save_figures

        save_figures("capstone", result)
    if as_json:
        print_json(result)
        return
    from ..bench.record import capstone_rows
    from .bench_cmds import print_tables

    print_tables([("the reference agents on their public tasks", *capstone_rows(result))])
