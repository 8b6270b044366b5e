"""Exercise l08.2: prefix caching by chained block hashes.

vLLM recognises a prompt prefix it has computed before by hashing each *full*
block of tokens together with the hash of the block before it. Two prompts
that share their first three blocks share their first three hashes, and
differ in every hash after the first block that differs. Blocks whose hash is
in the cache need not be computed again.
"""

from collections.abc import Sequence

from course.vllm.paged import ROOT_HASH, block_hash


def block_hashes(tokens: Sequence[int], block_size: int) -> list[bytes]:
    """The chained hash of every full block of ``tokens``: ``block_hash(parent, block)``, where ``parent`` is
    the previous block's hash, or ``ROOT_HASH`` for the first block. A partial last block has none."""
    # YOUR CODE HERE: exercise l08.2, Prefix caching by chained hashes
    raise NotImplementedError("exercise l08.2: read lessons/l08_vllm_serving/index.md#prefix-caching-by-chained-hashes, then run `course check l08`")


def reusable_tokens(tokens: Sequence[int], cached: set[bytes], block_size: int) -> int:
    """How many leading positions of ``tokens`` the cache spares: the full blocks, from the first, whose
    hashes are all in ``cached``, times ``block_size``. The last position of the prompt is always computed
    (its logits choose the first new token), so a prompt cached whole gives back its last block."""
    # YOUR CODE HERE: exercise l08.2, Prefix caching by chained hashes
    raise NotImplementedError("exercise l08.2: read lessons/l08_vllm_serving/index.md#prefix-caching-by-chained-hashes, then run `course check l08`")
