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
    ### BEGIN SOLUTION
    if len(prompt_ids) == 0:
        raise ValueError("the prompt has no tokens")
    outputs = [arg.name for arg in session.get_outputs()]
    cache = {}
    for arg in session.get_inputs():
        if arg.name.startswith(PAST):
            cache[arg.name] = np.zeros((1, arg.shape[1], 0, head_size), dtype=np.float32)
    eos = set(eos_ids)
    step, seen, new = list(prompt_ids), 0, []
    while len(new) < max_new_tokens:
        seen += len(step)
        feed = {"input_ids": np.array([step], dtype=np.int64),
                "attention_mask": np.ones((1, seen), dtype=np.int64), **cache}
        result = dict(zip(outputs, session.run(outputs, feed)))
        token = int(np.argmax(result["logits"][0, -1]))
        if token in eos:
            break
        new.append(token)
        cache = {name: result[PRESENT + name[len(PAST):]] for name in cache}
        step = [token]
    return new
    ### END SOLUTION
