"""Real vLLM's OpenAI-compatible server, started by the course on loopback: ``course vllm serve MODEL``.

The settings that make vLLM run on a small CPU machine:

* the model's **Hugging Face form** (vLLM does not run the course's GGUF
  files well on the CPU), prepared once by ``course models prepare``;
* ``--enforce-eager``: no ``torch.compile`` (90-110 s of start-up here,
  and its cache does not reload), 15-35 s instead;
* ``VLLM_CPU_KVCACHE_SPACE``: the KV cache in GiB (vLLM refuses to start
  without enough; 1 GiB holds tens of thousands of SmolLM2 positions);
* ``--max-model-len``: a context the cache can hold at least once;
* ``--host 127.0.0.1``, a free port, ``--served-model-name`` the course's alias,
  and ``--api-key`` when one is given.

:class:`VllmServer` starts it, waits for ``/health``, and always stops it
(SIGTERM, then SIGKILL): the process tree holds about 3.5 GB.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from ..backends.types import BackendError
from .setup import vllm_command


class VllmServerError(BackendError):
    """vLLM did not start, or stopped; the message gives vLLM's own reason."""

DEFAULT_KV_CACHE_GIB = 1
DEFAULT_MAX_MODEL_LEN = 4096
TOOL_PARSER_PLUGIN = Path(__file__).with_name("qwen_tool_parser.py")
TOOL_PARSER = "qwen-bare-json"
# vLLM's prompt-lookup speculation: up to 4 draft tokens, from the last 2 to 4 tokens found earlier
NGRAM = {"method": "ngram", "num_speculative_tokens": 4, "prompt_lookup_max": 4, "prompt_lookup_min": 2}


@dataclass
class VllmSettings:
    """What ``vllm serve`` is started with (see :func:`serve_args`)."""

    model: str = "smollm2-135m"
    port: int = 0
    kv_cache_gib: float = DEFAULT_KV_CACHE_GIB
    max_model_len: int = DEFAULT_MAX_MODEL_LEN
    max_num_seqs: int = 64
    max_num_batched_tokens: int | None = None
    enforce_eager: bool = True
    prefix_caching: bool = True
    speculative: dict | None = None  # e.g. {"method": "ngram", "num_speculative_tokens": 4, ...}
    tools: bool = False  # tool_choice="auto" with the course's parser for models that write bare JSON
    api_key: str | None = None
    threads: int | None = None
    extra: list[str] = field(default_factory=list)


def serve_args(settings: VllmSettings, model_dir: Path, port: int) -> list[str]:
    """The arguments of ``vllm serve`` for ``settings`` (current flags, checked against vLLM 0.32's ``--help``)."""
    import json

    args = ["serve", str(model_dir), "--host", "127.0.0.1", "--port", str(port),
            "--served-model-name", settings.model, "--max-model-len", str(settings.max_model_len),
            "--max-num-seqs", str(settings.max_num_seqs), "--dtype", "bfloat16"]
    if settings.max_num_batched_tokens:
        args += ["--max-num-batched-tokens", str(settings.max_num_batched_tokens)]
    if settings.enforce_eager:
        args.append("--enforce-eager")
    if not settings.prefix_caching:
        args.append("--no-enable-prefix-caching")
    if settings.speculative:
        args += ["--speculative-config", json.dumps(settings.speculative)]
    if settings.tools:
        args += ["--enable-auto-tool-choice", "--tool-parser-plugin", str(TOOL_PARSER_PLUGIN),
                 "--tool-call-parser", TOOL_PARSER]
    if settings.api_key:
        args += ["--api-key", settings.api_key]
    return args + list(settings.extra)


class VllmServer:
    """``vllm serve`` for a registry model on 127.0.0.1; a context manager that always stops it.

    ``.url`` is the server's root (``/v1`` for the OpenAI API, ``/metrics``,
    ``/health``). Start-up takes 15-35 s on 2 cores (``--enforce-eager``).
    """

    def __init__(self, settings: VllmSettings | None = None, *, timeout: float = 300.0, log: Path | None = None):
        self.settings = settings or VllmSettings()
        self.timeout = timeout
        self.log_path = log
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.started_s = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": f"{self.settings.kv_cache_gib:g}",
               "VLLM_NO_USAGE_STATS": "1", "DO_NOT_TRACK": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        if self.settings.threads:
            env["VLLM_CPU_OMP_THREADS_BIND"] = "nobind"
            env["OMP_NUM_THREADS"] = str(self.settings.threads)
        return env

    def start(self) -> VllmServer:
        from ..models.forms import prepare
        from ..net import free_port

        command = vllm_command()  # a clear error first when vLLM is not set up
        model_dir = prepare(self.settings.model, "hf").folder
        self.port = self.settings.port or free_port()
        self._log = open(self.log_path, "wb") if self.log_path else tempfile.TemporaryFile()
        start = time.monotonic()
        self.proc = subprocess.Popen([*command, *serve_args(self.settings, model_dir, self.port)],
                                     stdout=self._log, stderr=subprocess.STDOUT, env=self.environment(),
                                     start_new_session=True)
        try:
            self._wait_healthy(start)
        except BaseException:
            self.close()
            raise
        self.started_s = time.monotonic() - start
        return self

    def log_tail(self, chars: int = 1500) -> str:
        self._log.flush()
        if self.log_path:
            return Path(self.log_path).read_text(errors="replace")[-chars:]
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-chars:]

    def failure_reason(self) -> str:
        """vLLM's own words for why it stopped: the last ``...Error: ...`` line of its log, or its tail."""
        import re

        text = self.log_tail(200_000)
        found = re.findall(r"^(?:\(\w+ pid=\d+\) )?(?:ERROR \S+ \S+ \[[^\]]+\] )?(\w+Error: .+)$", text, re.M)
        causes = [line for line in found if "See root cause above" not in line and "EngineDeadError" not in line]
        return (causes or found)[-1] if found else self.log_tail()

    def _wait_healthy(self, start: float) -> None:
        while True:
            if self.proc.poll() is not None:
                raise VllmServerError(f"vLLM exited with {self.proc.returncode} before it served: "
                                      f"{self.failure_reason()}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() - start > self.timeout:
                raise VllmServerError(f"vLLM did not answer /health within {self.timeout:g} s:\n{self.log_tail()}")
            time.sleep(0.5)

    def resident_bytes(self) -> int:
        """Resident memory of vLLM's whole process group now (its API server, engine core and worker)."""
        if self.proc is None:
            return 0
        total, page = 0, os.sysconf("SC_PAGE_SIZE")
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if os.getpgid(int(entry.name)) != self.proc.pid:
                    continue
                total += int((entry / "statm").read_text().split()[1]) * page
            except (OSError, ValueError, IndexError):
                continue
        return total

    def kv_cache_tokens(self) -> int | None:
        """The KV cache's size in positions, as vLLM's log states it at start-up."""
        import re

        found = re.search(r"KV cache size: ([\d,]+) tokens", self.log_tail(200_000))
        return int(found.group(1).replace(",", "")) if found else None

    def _group_alive(self) -> bool:
        try:
            os.killpg(self.proc.pid, 0)
            return True
        except ProcessLookupError:
            return False

    def close(self) -> None:
        """SIGTERM to vLLM's whole process group (its engine core and worker are children), SIGKILL to what is
        left after 20 s; returns once no process of the group remains (a lingering worker would keep spinning on
        the cores and slow whatever runs next)."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 20
        while self._group_alive() and time.monotonic() < deadline:
            self.proc.poll()
            time.sleep(0.2)
        if self._group_alive():
            os.killpg(self.proc.pid, signal.SIGKILL)
            while self._group_alive():
                self.proc.poll()
                time.sleep(0.1)
        self.proc.wait()
        self._log.close()
        self.proc = None

    def __enter__(self) -> VllmServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


__all__ = ["DEFAULT_KV_CACHE_GIB", "NGRAM", "VllmServerError", "VllmServer", "VllmSettings", "serve_args"]
