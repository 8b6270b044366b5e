"""Lesson 10's benchmarks: ``course bench redteam``, ``redaction``, ``prometheus`` and ``limits``."""

from __future__ import annotations

import click
from rich.table import Table

from .bench_cmds import bench, json_option, print_tables, save_figures, save_option
from .main import console, friendly_errors, print_json, spinner

SMALL, CAPABLE = "smollm2-135m", "qwen2.5-coder-0.5b"


def _models_option(default: tuple[str, ...]):
    return click.option("--model", "models", multiple=True, default=default, show_default=True,
                        help="registry alias (repeatable)")


@bench.command()
@_models_option((SMALL, CAPABLE))
@click.option("--ablation", multiple=True, default=(CAPABLE,), show_default=True,
              help="models also measured with each defence alone (repeatable)")
@json_option
@save_option
@friendly_errors
def redteam(models: tuple[str, ...], ablation: tuple[str, ...], as_json: bool, save: bool) -> None:
    """The course's prompt-injection suite on real models: attack success without, with each and with all defences."""
    from ..production.bench import bench_redteam

    with spinner("the injection suite, model by model (minutes)", as_json) as status:
        result = bench_redteam(list(models), ablation=tuple(ablation),
                               progress=(lambda text: status.update(text)) if status else None)
    if save:
        save_figures("redteam", result)
    if as_json:
        print_json(result)
        return
    from ..bench.record import redteam_rows

    print_tables((f"{alias}: attacks that succeeded, by category", header, rows)
                 for alias, header, rows in redteam_rows(result))


@bench.command()
@json_option
@save_option
@friendly_errors
def redaction(as_json: bool, save: bool) -> None:
    """The course's redactor beside Microsoft Presidio on the shipped labelled texts: precision and recall."""
    from ..production.bench import bench_redaction

    with spinner("finding personal data in the shipped texts", as_json):
        result = bench_redaction()
    if save:
        save_figures("redaction", result)
    if as_json:
        print_json(result)
        return
    from ..bench.record import redaction_rows

    print_tables([(f"personal data in {result['texts']} labelled texts: precision / recall (found, missed)",
                   *redaction_rows(result))])
    if result["note"]:
        console.print(result["note"])


@bench.command()
@click.option("--model", default=SMALL, show_default=True, help="registry alias of the model course serve answers with")
@click.option("--requests", default=24, show_default=True, help="requests in the load (every sixth names a missing model)")
@click.option("--clients", default=2, show_default=True)
@json_option
@save_option
@friendly_errors
def prometheus(model: str, requests: int, clients: int, as_json: bool, save: bool) -> None:
    """Debian's Prometheus scraping course serve under a bounded load, then PromQL: latency, errors, tokens/s."""
    from ..production.bench import load_and_query
    from ..production.prometheus import PrometheusServer, shipped_rules
    from ..servers import CourseServer

    rules, _ = shipped_rules()
    with spinner(f"course serve ({model}) and Prometheus, {requests} requests from {clients} clients", as_json):
        with CourseServer(port=0, models=[model], log=None) as server, \
                PrometheusServer([f"127.0.0.1:{server.port}"], rule_files=[rules], scrape_interval_s=1.0) as prom:
            result = load_and_query(server.url, prom, model=model, requests=requests, clients=clients)
    if save:
        save_figures("prometheus", result)
    if as_json:
        print_json(result)
        return
    table = Table(title=f"PromQL over the load ({result['requests']} requests, {result['clients']} clients, "
                        f"{result['load_s']} s)")
    for col in ("figure", "value", "query"):
        table.add_column(col)
    for name, value in result["promql"].items():
        table.add_row(name, str(value), result["queries"][name])
    console.print(table)
    console.print(f"the clients saw {result['client_ok']} answers and {result['client_errors']} errors; "
                  f"alerts firing or pending: {', '.join(result['alerts']) or 'none'}")


@bench.command()
@_models_option((SMALL, CAPABLE))
@json_option
@save_option
@friendly_errors
def limits(models: tuple[str, ...], as_json: bool, save: bool) -> None:
    """Memory limits (RLIMIT_AS) and deadlines on real models: predicted vs measured, refused vs crashed."""
    from ..production.limits_bench import bench_limits

    with spinner("each model in processes of its own, under limits", as_json) as status:
        result = bench_limits(list(models), progress=(lambda text: status.update(text)) if status else None)
    if save:
        save_figures("limits", result)
    if as_json:
        print_json(result)
        return
    from ..bench.record import limits_tables

    print_tables(limits_tables(result))
