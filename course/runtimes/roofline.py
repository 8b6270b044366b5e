"""The memory-bandwidth roofline: how fast generation can possibly be on this machine.

Generating one token runs the whole network once for one position. Every
weight matrix is multiplied by one vector, so every weight is read from memory
once per token and used for one multiply-add: far too little arithmetic per
byte for the CPU's vector units to be the limit. The limit is how fast memory
delivers bytes:

    tokens/s  <=  memory bandwidth  /  bytes read per token

Bytes read per token are the weights, with one exception and one addition:

* the **token embedding table** (``token_embd.weight``) is a lookup: one row
  is read, the row of the token being processed. Unless the model *ties* its
  embeddings (no ``output.weight`` tensor): then the output projection
  multiplies by the same table, and all of it is read. SmolLM2 and Gemma 3 tie
  theirs; Qwen2.5-Coder-0.5B does not, and its 94 MB table is not read per
  token, a fifth of its file;
* the **KV cache** so far: attention reads the keys and values of every
  earlier position. At position 500, SmolLM2's f16 cache adds 11.5 MB to its
  96 MB of weights.

:func:`memory_bandwidth` measures the bandwidth the way a generating runtime
uses it (large copies, read and write counted); :func:`bytes_per_token` and
:func:`roofline_tokens_per_s` do the arithmetic; ``course bench runtimes``
shows each runtime's measured speed as a fraction of the roofline.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

EMBEDDING = "token_embd.weight"
OUTPUT = "output.weight"


def tensor_table(model: str | Path) -> dict[str, tuple[int, int]]:
    """``{name: (n_bytes, rows)}`` for the tensors of a GGUF file (a registry alias or a path), from its header.

    Rows are the tensor's last dimension as GGUF stores it: for the embedding
    table, the vocabulary.
    """
    from ..formats.gguf_file import read_gguf
    from ..models import model_path

    path = Path(model) if Path(str(model)).suffix == ".gguf" else model_path(str(model))
    return {t.name: (t.n_bytes, t.shape[-1] if len(t.shape) > 1 else 1) for t in read_gguf(path).tensors}


def bytes_per_token(tensors: Mapping[str, tuple[int, int]], *, kv_bytes_per_position: float = 0.0,
                    position: int = 0) -> float:
    """Bytes read from memory to generate one token at ``position`` (the tokens before it in the cache).

    Every tensor once; of the embedding table one row, or all of it when there
    is no ``output.weight`` (tied embeddings); plus ``position`` positions of
    KV cache at ``kv_bytes_per_position`` each.
    """
    if position < 0 or kv_bytes_per_position < 0:
        raise ValueError(f"position and kv_bytes_per_position must be >= 0, got {position} and {kv_bytes_per_position}")
    total = float(sum(n_bytes for n_bytes, _ in tensors.values()))
    if EMBEDDING in tensors and OUTPUT in tensors:  # untied: the output projection has a table of its own
        n_bytes, rows = tensors[EMBEDDING]
        total -= n_bytes - n_bytes / max(rows, 1)
    return total + kv_bytes_per_position * position


def roofline_tokens_per_s(bandwidth_bytes_per_s: float, bytes_read_per_token: float) -> float:
    """The most tokens per second memory can feed: bandwidth / bytes per token."""
    if bandwidth_bytes_per_s <= 0 or bytes_read_per_token <= 0:
        raise ValueError(f"bandwidth and bytes per token must be positive, got {bandwidth_bytes_per_s} "
                         f"and {bytes_read_per_token}")
    return bandwidth_bytes_per_s / bytes_read_per_token


def memory_bandwidth(size_mb: int = 256, repeats: int = 5) -> float:
    """Bytes per second of the best of a few large array copies, read and write both counted.

    One thread (NumPy's copy): a generating runtime with two threads may draw
    a little more, so a measured fraction a little over 1 is possible.
    """
    import numpy as np

    src = np.ones(size_mb * (1 << 20) // 8)
    dst = np.empty_like(src)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - start)
    return 2 * src.nbytes / best


__all__ = ["bytes_per_token", "memory_bandwidth", "roofline_tokens_per_s", "tensor_table"]
