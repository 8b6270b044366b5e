"""Exercise l04.1: the memory-bandwidth roofline.

Generating one token runs every weight matrix once on one vector: each weight
is read from memory once and used for one multiply-add. Memory, not
arithmetic, sets the limit: tokens/s can be at most the memory bandwidth
divided by the bytes read per token. This exercise computes that ceiling from
a model's tensor table and says how close a measured speed comes to it.
"""

from collections.abc import Mapping

EMBEDDING = "token_embd.weight"  # the token embedding table: a lookup, one row per token
OUTPUT = "output.weight"  # the output projection; absent when the model ties it to the embedding table


def bytes_per_token(tensors: Mapping[str, tuple[int, int]], kv_bytes_per_position: float = 0.0,
                    position: int = 0) -> float:
    """Bytes read from memory to generate the token at ``position``.

    ``tensors`` maps each tensor's name to ``(n_bytes, rows)``. Every tensor is
    read once, except ``token_embd.weight``: of it only one row (its bytes
    divided by its rows) is read, the row of the current token. But when the
    model has no ``output.weight`` it ties its embeddings: the output
    projection multiplies by the whole embedding table, so all of it is read.
    On top come ``position`` earlier positions of KV cache at
    ``kv_bytes_per_position`` bytes each. Raises ``ValueError`` for a negative
    ``position`` or ``kv_bytes_per_position``.
    """
    # YOUR CODE HERE: exercise l04.1, The memory-bandwidth roofline
    raise NotImplementedError("exercise l04.1: read lessons/l04_edge_runtimes/index.md#the-memory-bandwidth-roofline, then run `course check l04`")


def roofline_tokens_per_s(bandwidth_bytes_per_s: float, bytes_read_per_token: float) -> float:
    """The most tokens per second memory can feed. Raises ``ValueError`` unless both are positive."""
    # YOUR CODE HERE: exercise l04.1, The memory-bandwidth roofline
    raise NotImplementedError("exercise l04.1: read lessons/l04_edge_runtimes/index.md#the-memory-bandwidth-roofline, then run `course check l04`")


def fraction_of_roofline(measured_tokens_per_s: float, bandwidth_bytes_per_s: float,
                         bytes_read_per_token: float) -> float:
    """A measured decode speed as a fraction of the roofline (0.43 means 43 % of the ceiling)."""
    # YOUR CODE HERE: exercise l04.1, The memory-bandwidth roofline
    raise NotImplementedError("exercise l04.1: read lessons/l04_edge_runtimes/index.md#the-memory-bandwidth-roofline, then run `course check l04`")
