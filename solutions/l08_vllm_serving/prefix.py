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
    ### BEGIN SOLUTION
    hashes, parent = [], ROOT_HASH
    for start in range(0, len(tokens) - block_size + 1, block_size):
        parent = block_hash(parent, list(tokens[start:start + block_size]))
        hashes.append(parent)
    return hashes
    ### END SOLUTION


def reusable_tokens(tokens: Sequence[int], cached: set[bytes], block_size: int) -> int:
    """How many leading positions of ``tokens`` the cache spares: the full blocks, from the first, whose
    hashes are all in ``cached``, times ``block_size``. The last position of the prompt is always computed
    (its logits choose the first new token), so a prompt cached whole gives back its last block."""
    ### BEGIN SOLUTION
    n = 0
    for h in block_hashes(tokens, block_size):
        if h not in cached:
            break
        n += block_size
    if tokens and n == len(tokens):
        n -= block_size
    return n
    ### END SOLUTION
