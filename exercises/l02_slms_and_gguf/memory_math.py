"""Exercise l02.4: predict the memory of the KV cache, and the longest context a budget allows.

For every layer, the model keeps a key vector and a value vector for each KV
head at every position of the context. Each vector has ``head_size``
elements, stored in the cache type: :data:`CACHE_TYPES` gives the bytes per
element (q8_0 packs 32 elements and a 2-byte scale into 34 bytes).

llama.cpp allocates the cache in whole multiples of 256 positions.
"""

CACHE_TYPES = {"f32": 4.0, "f16": 2.0, "bf16": 2.0, "q8_0": 34 / 32, "q5_1": 24 / 32, "q5_0": 22 / 32,
               "q4_1": 20 / 32, "q4_0": 18 / 32}
PAD = 256


def kv_cache_bytes(n_layers: int, n_kv_heads: int, head_size: int, n_ctx: int, cache_type: str = "f16") -> float:
    """Bytes of the keys and the values of ``n_ctx`` positions, in every layer and KV head.

    Raise ``ValueError`` for a cache type not in :data:`CACHE_TYPES`.
    """
    # YOUR CODE HERE: exercise l02.4, Predict the KV cache
    raise NotImplementedError("exercise l02.4: read lessons/l02_slms_and_gguf/index.md#how-much-memory-a-model-needs, then run `course check l02`")


def max_context(budget_bytes: float, n_layers: int, n_kv_heads: int, head_size: int,
                cache_type: str = "f16") -> int:
    """The longest context, a multiple of 256, whose KV cache fits in ``budget_bytes`` (0 if none does)."""
    # YOUR CODE HERE: exercise l02.4, Predict the KV cache
    raise NotImplementedError("exercise l02.4: read lessons/l02_slms_and_gguf/index.md#how-much-memory-a-model-needs, then run `course check l02`")
