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
    ### BEGIN SOLUTION
    tokens = list(tokens)
    for n in range(max_n, min_n - 1, -1):
        if len(tokens) <= n:
            continue
        tail = tokens[-n:]
        for start in range(len(tokens) - n - 1, -1, -1):
            if tokens[start:start + n] == tail:
                return tokens[start + n:start + n + k]
    return []
    ### END SOLUTION


def accept_greedy(draft: Sequence[int], choices: Sequence[int]) -> list[int]:
    """The tokens one verification pass yields. ``choices[i]`` is the model's greedy token after ``draft[:i]``
    (``len(draft) + 1`` choices). Keep the draft while it equals the choices, then add the model's own
    choice at the first difference (or after the whole draft). Raise ``ValueError`` for a wrong number of
    choices."""
    ### BEGIN SOLUTION
    if len(choices) != len(draft) + 1:
        raise ValueError("need one more choice than draft tokens")
    out = []
    for guess, choice in zip(draft, choices):
        if guess != choice:
            break
        out.append(guess)
    out.append(choices[len(out)])
    return out
    ### END SOLUTION
