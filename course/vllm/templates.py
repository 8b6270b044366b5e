"""The source's vLLM configuration templates, in the flags vLLM has today.

The source builds commands with ``python -m vllm.entrypoints.openai.api_server``,
``--disable-log-requests``, ``--speculative-model`` and
``--guided-decoding-backend``; the first is now ``vllm serve`` and the other
three no longer exist. Its scenarios also assume GPUs (memory utilisation,
tensor and pipeline parallelism). :data:`TEMPLATES` keeps each scenario's
intent with flags vLLM 0.32 accepts (an integration test checks every flag
against ``vllm serve --help=all``), and says what each one needs that a CPU
machine does not have.
"""

from __future__ import annotations

import json

from .server import NGRAM

TEMPLATES: dict[str, dict] = {
    "development": {
        "flags": ["--max-model-len", "2048", "--max-num-seqs", "32", "--max-num-batched-tokens", "2048",
                  "--no-enable-prefix-caching", "--enforce-eager"],
        "env": {"VLLM_CPU_KVCACHE_SPACE": "1"},
        "needs": "nothing beyond a CPU",
    },
    "staging": {
        "flags": ["--max-model-len", "4096", "--max-num-seqs", "64", "--max-num-batched-tokens", "4096",
                  "--enable-prefix-caching", "--enforce-eager"],
        "env": {"VLLM_CPU_KVCACHE_SPACE": "2"},
        "needs": "nothing beyond a CPU (the source adds AWQ quantization: a GPU feature)",
    },
    "production": {
        "flags": ["--max-model-len", "8192", "--max-num-seqs", "128", "--max-num-batched-tokens", "8192",
                  "--enable-prefix-caching", "--speculative-config", json.dumps(NGRAM), "--enforce-eager"],
        "env": {"VLLM_CPU_KVCACHE_SPACE": "4"},
        "needs": "the source asks for tensor parallelism 2 and a draft model: several GPUs; n-gram speculation "
                 "needs no second model",
    },
}


def command(model_dir: str, scenario: str, *, port: int = 8000) -> list[str]:
    """``vllm serve`` for ``scenario`` on 127.0.0.1 (the environment variables are ``TEMPLATES[s]["env"]``)."""
    if scenario not in TEMPLATES:
        raise ValueError(f"unknown scenario {scenario!r}: one of {', '.join(TEMPLATES)}")
    return ["vllm", "serve", model_dir, "--host", "127.0.0.1", "--port", str(port), *TEMPLATES[scenario]["flags"]]


def flags(args: list[str]) -> set[str]:
    """The ``--flag`` names in an argument list."""
    return {a.split("=")[0] for a in args if a.startswith("--")}


__all__ = ["TEMPLATES", "command", "flags"]
