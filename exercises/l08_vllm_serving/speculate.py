"""Exercise l08.4: prompt-lookup drafts, verified greedily.

vLLM's ``ngram`` speculative decoding guesses the next tokens by finding the
last few tokens earlier in the context and proposing what followed them
there. The model checks all the guesses in one pass; the output stays the
model's own greedy output.
"""

from collections.abc import Sequence


def propose_ngram(tokens: Sequence[int], k: int, max_n: int = 4, min_n: int = 2) -> list[int]:
    """Up to ``k`` tokens that followed the most recent earlier occurrence of the last ``n`` tokens.

    Try ``n = max_n`` first, then smaller, down to ``min_n``. An earlier
    occurrence must start before the tail itself (``start < len(tokens) - n``);
    take the one that starts latest, and return the (at most ``k``) tokens
    after it. No occurrence for any ``n`` gives ``[]``.
    """
    # YOUR CODE HERE: exercise l08.4, N-gram drafts, verified greedily
    raise NotImplementedError("exercise l08.4: read lessons/l08_vllm_serving/index.md#n-gram-drafts-verified-greedily, then run `course check l08`")


def accept_greedy(draft: Sequence[int], choices: Sequence[int]) -> list[int]:
    """The tokens one verification pass yields. ``choices[i]`` is the model's greedy token after ``draft[:i]``
    (``len(draft) + 1`` choices). Keep the draft while it equals the choices, then add the model's own
    choice at the first difference (or after the whole draft). Raise ``ValueError`` for a wrong number of
    choices."""
    # YOUR CODE HERE: exercise l08.4, N-gram drafts, verified greedily
    raise NotImplementedError("exercise l08.4: read lessons/l08_vllm_serving/index.md#n-gram-drafts-verified-greedily, then run `course check l08`")
