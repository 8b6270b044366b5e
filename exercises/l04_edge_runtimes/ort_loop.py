"""Exercise l04.2: the greedy decode loop over plain ONNX Runtime.

The ONNX form of a model computes one forward pass. Its inputs are the new
tokens (``input_ids``, ``int64 [1, seq]``), an ``attention_mask`` of ones
(``int64 [1, past + seq]``) and, for each layer N, the KV cache so far
(``past_key_values.N.key`` and ``.value``, ``float32 [1, kv_heads, past, head_size]``;
the model builder writes the KV heads as a number and the head size as a
name, ``kv_cache_dim``, so the head size comes from ``genai_config.json``).
Its outputs are ``logits`` (``[1, seq, vocabulary]``) and the cache with the new
positions appended (``present.N.key`` and ``.value``). ONNX Runtime GenAI runs
the loop around it; here you write that loop yourself.
"""

from collections.abc import Iterable, Sequence

import numpy as np

PAST = "past_key_values."
PRESENT = "present."


def greedy_decode(session, prompt_ids: Sequence[int], max_new_tokens: int, head_size: int,
                  eos_ids: Iterable[int] = ()) -> list[int]:
    """The token ids a greedy generation adds after ``prompt_ids``.

    ``session`` is an ``onnxruntime.InferenceSession`` (or anything with its
    ``get_inputs()``, ``get_outputs()`` and ``run(output_names, feed)``).

    1. Start with an empty cache: for each input whose name starts with
       ``past_key_values.``, a float32 array of shape ``(1, heads, 0, head_size)``,
       with ``heads`` read from that input's ``.shape`` (``[batch, heads, past, size]``).
    2. Run the whole prompt once; the next token is the argmax of the logits
       of the last position.
    3. Then run only the token just chosen, with ``attention_mask`` covering
       every position so far and each ``present.N.*`` output fed back as
       ``past_key_values.N.*``.

    Stop after ``max_new_tokens`` tokens, or before an ``eos_ids`` token (not
    included). Raises ``ValueError`` for an empty prompt.
    """
    # YOUR CODE HERE: exercise l04.2, A decode loop on plain ONNX Runtime
    raise NotImplementedError("exercise l04.2: read lessons/l04_edge_runtimes/index.md#a-decode-loop-on-plain-onnx-runtime, then run `course check l04`")
