"""``course serve``: the local model server (OpenAI face at /v1, Ollama face at /api)."""

from __future__ import annotations

import errno
import os
import re
import signal
import threading

import click

from .main import cli, console, err_console, friendly_errors

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B?|B)?\s*$", re.I)


def parse_size(text: str) -> int:
    """Bytes from ``"800MiB"``, ``"1.5G"``, ``"1GB"``, or a plain number of MiB."""
    m = _SIZE.match(text)
    if not m:
        raise click.BadParameter(f"{text!r} is not a size: write it like 800MiB, 1.5GiB or 2G")
    number, unit = float(m.group(1)), (m.group(2) or "MiB").upper().rstrip("B").rstrip("I")
    scale = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}[unit]
    return int(number * scale)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on (loopback by default)")
@click.option("--port", default=11434, show_default=True, type=click.IntRange(0, 65535),
              help="port (11434 is Ollama's, so its clients find the server without settings; 0 picks a free one)")
@click.option("--model", "models", multiple=True, help="serve only this registry model (repeatable; default: all)")
@click.option("--api-key", envvar="COURSE_API_KEY", help="require 'Authorization: Bearer KEY' (or set COURSE_API_KEY)")
@click.option("--allow-remote", is_flag=True, help="allow a --host other machines can reach")
@click.option("--keep-alive", default="5m", show_default=True,
              help="unload a model this long after its last request (Ollama's default; -1 keeps it)")
@click.option("--memory-budget", help="unload least recently used models to stay under this (e.g. 800MiB)")
@click.option("--n-ctx", default=4096, show_default=True, type=click.IntRange(64, 131072),
              help="context length of a loaded model (a request's num_ctx option overrides it)")
@click.option("--drain", "drain_s", default=10.0, show_default=True, type=click.FloatRange(0, 3600),
              help="on Ctrl-C or SIGTERM, seconds the requests in flight get to finish before they are cut off")
@click.option("--quiet", is_flag=True, help="do not log requests")
@friendly_errors
def serve(host: str, port: int, models: tuple[str, ...], api_key: str | None, allow_remote: bool, keep_alive: str,
          memory_budget: str | None, n_ctx: int, drain_s: float, quiet: bool) -> None:
    """Serve the course's models over HTTP: OpenAI's API at /v1 and Ollama's at /api."""
    from ..servers import CourseServer, ExposureError, is_loopback, parse_keep_alive
    from ..servers.http import eprint

    try:
        keep = parse_keep_alive(keep_alive)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--keep-alive") from None
    budget = parse_size(memory_budget) if memory_budget else None
    try:
        server = CourseServer(host=host, port=port, models=list(models) or None, api_key=api_key,
                              allow_remote=allow_remote, n_ctx=n_ctx,
                              keep_alive_s=300.0 if keep is None else keep, memory_budget=budget,
                              log=None if quiet else eprint)
    except ExposureError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise SystemExit(2) from None
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            err_console.print(f"[bold red]error:[/] port {port} on {host} is in use (another server?): "
                              "pass --port, or --port 0 for a free one", highlight=False)
            raise SystemExit(2) from None
        raise
    if not is_loopback(host):
        err_console.print(f"[bold yellow]warning:[/] listening on {host}: other machines can reach these models"
                          + ("" if api_key else " and no --api-key is set"), highlight=False)
    names = [e.alias for e in server.engine.installed()]
    console.print(f"[bold]course serve[/] on {server.url}  (pid {os.getpid()}, Ctrl-C stops it)")
    console.print(f"  OpenAI API: {server.url}/v1   Ollama API: {server.url}/api")
    console.print(f"  models: {', '.join(names) or 'none installed'}; loaded on first use, unloaded after "
                  f"{keep_alive} idle" + (f", budget {memory_budget}" if budget else ""))
    if api_key:
        console.print("  API key required: Authorization: Bearer <key>")
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        if stop.is_set():  # a second Ctrl-C or SIGTERM: stop now, without waiting
            err_console.print("stopped at once", highlight=False)
            os._exit(130 if signum == signal.SIGINT else 143)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.start()
        while not stop.wait(0.5):  # a timeout, so that the signal handler runs promptly
            pass
        busy = server.httpd.active
        err_console.print(f"stopping: {busy} request(s) in flight get up to {drain_s:g} s to finish "
                          "(Ctrl-C again stops at once)" if busy else "stopping", highlight=False)
        cut = server.drain(drain_s)
        console.print("stopped" + (f" ({cut} request(s) cut off after {drain_s:g} s)" if cut else ""))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
