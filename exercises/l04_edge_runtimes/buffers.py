"""Exercise l04.4: the KV cache and compute buffer of a llama.cpp setting.

Lesson 02 predicted llama.cpp's memory for one cache type. Its knobs change
more: ``type_k`` and ``type_v`` may differ, a quantized V cache needs flash
attention, and ``n_ubatch`` and ``flash_attn`` decide the compute buffer.
Predict both buffers before loading, and refuse what llama.cpp would refuse.
"""

import math

from course.formats.memory import KV_CACHE_TYPES, ModelShape
from course.runtimes.knobs import Knobs

UNQUANTIZED = ("f32", "f16", "bf16")


def predict_buffers(shape: ModelShape, knobs: Knobs) -> dict:
    """``{"kv_cache": bytes, "compute": bytes}`` llama.cpp allocates for ``shape`` with ``knobs``.

    * Cells: ``knobs.n_ctx`` rounded up to a multiple of 256. Batches:
      ``n_batch`` is capped at ``n_ctx`` (the number asked for, not rounded),
      and ``n_ubatch`` at that ``n_batch``.
    * KV cache: ``layers * kv_heads * cells * (head_size * bytes(type_k) +
      value_head_size * bytes(type_v))``, with the bytes per element of each
      type in ``KV_CACHE_TYPES`` (q8_0: 34 / 32).
    * Compute buffer: the larger of the logits, ``n_ubatch * vocabulary * 4``,
      and, only without flash attention, the attention scores with their mask,
      ``(heads + 1) * n_ubatch * cells * 4``.

    Raises ``ValueError`` for a cache type not in ``KV_CACHE_TYPES``, and for
    a quantized ``type_v`` (not f32, f16 or bf16) without ``flash_attn``.
    """
    # YOUR CODE HERE: exercise l04.4, The buffers of a llama.cpp setting
    raise NotImplementedError("exercise l04.4: read lessons/l04_edge_runtimes/index.md#the-buffers-of-a-llamacpp-setting, then run `course check l04`")
