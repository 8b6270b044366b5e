"""Speculative decoding, small: prompt-lookup (n-gram) drafts checked by the model in one pass.

Generating a token reads every weight once (lesson 04), and so does checking
five tokens at once: a forward pass over a few positions costs about what a
pass over one costs. Speculative decoding uses that. A cheap *drafter*
guesses the next ``k`` tokens; the model runs once over the last accepted
token and the ``k`` guesses, which gives its own greedy choice after each of
them; the guesses are kept up to the first one the model disagrees with, and
the model's own choice there is kept too. Every pass yields at least one
token, and the output is the model's greedy output, token for token: a wrong
guess costs only the positions wasted on it.

vLLM's ``ngram`` method (``--speculative-config '{"method": "ngram", ...}'``)
drafts without a second model, by **prompt lookup**: find the most recent
earlier place where the last ``n`` tokens occurred (``n`` from
``prompt_lookup_max`` down to ``prompt_lookup_min``) and propose the tokens
that followed it. It shines where the output copies its input: quoting,
editing code, filling forms from a document.

:func:`propose_ngram` and :func:`accept_greedy` are the two rules;
:func:`speculative_generate` runs them on llama.cpp, and :func:`greedy_generate`
is plain decoding on the same model, for the comparison.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field


def propose_ngram(tokens: Sequence[int], k: int, *, max_n: int = 4, min_n: int = 2) -> list[int]:
    """Up to ``k`` draft tokens: what followed the most recent earlier occurrence of the last ``n`` tokens.

    Tries ``n = max_n`` first, down to ``min_n``; no match gives no draft.
    """
    if k < 1 or min_n < 1 or max_n < min_n:
        raise ValueError(f"need k >= 1 and 1 <= min_n <= max_n, got k={k}, min_n={min_n}, max_n={max_n}")
    tokens = list(tokens)
    for n in range(max_n, min_n - 1, -1):
        if len(tokens) <= n:
            continue
        tail = tokens[-n:]
        for start in range(len(tokens) - n - 1, -1, -1):  # most recent first, the tail itself excluded
            if tokens[start:start + n] == tail:
                return tokens[start + n:start + n + k]
    return []


def accept_greedy(draft: Sequence[int], choices: Sequence[int]) -> list[int]:
    """The tokens a verification pass yields.

    ``choices[i]`` is the model's greedy token after the context and
    ``draft[:i]`` (``len(draft) + 1`` of them). Keep the draft up to the first
    disagreement, then the model's own token there (or after the whole draft).
    """
    if len(choices) != len(draft) + 1:
        raise ValueError(f"{len(draft)} draft tokens need {len(draft) + 1} choices, got {len(choices)}")
    out = []
    for guess, choice in zip(draft, choices):
        if guess != choice:
            break
        out.append(guess)
    out.append(choices[len(out)])
    return out


@dataclass
class SpeculativeRun:
    tokens: list[int]
    seconds: float
    passes: int  # forward passes of the model after the prompt
    drafted: int = 0  # draft tokens proposed
    accepted: int = 0  # of them, kept
    per_pass: list[int] = field(default_factory=list)

    @property
    def acceptance_rate(self) -> float:
        return self.accepted / self.drafted if self.drafted else 0.0

    @property
    def tokens_per_s(self) -> float:
        return len(self.tokens) / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict:
        return {"tokens": len(self.tokens), "seconds": self.seconds, "passes": self.passes, "drafted": self.drafted,
                "accepted": self.accepted, "acceptance_rate": self.acceptance_rate, "tokens_per_s": self.tokens_per_s}


def _argmax_rows(llm, first: int, n: int) -> list[int]:
    import numpy as np

    return [int(i) for i in np.argmax(llm.scores[first:first + n], axis=-1)]


def greedy_generate(llm, prompt: Sequence[int], max_tokens: int, eos: int | None = None) -> SpeculativeRun:
    """Plain greedy decoding, one pass per token (``llm`` loaded with ``logits_all=True``)."""
    llm.reset()
    llm.eval(list(prompt))
    out: list[int] = []
    start = time.perf_counter()
    token = _argmax_rows(llm, llm.n_tokens - 1, 1)[0]
    passes = 0
    while len(out) < max_tokens and token != eos:
        out.append(token)
        llm.eval([token])
        passes += 1
        token = _argmax_rows(llm, llm.n_tokens - 1, 1)[0]
    return SpeculativeRun(out, time.perf_counter() - start, passes)


def speculative_generate(llm, prompt: Sequence[int], max_tokens: int, *, k: int = 4, max_n: int = 4,
                         min_n: int = 2, eos: int | None = None, propose=None, accept=None) -> SpeculativeRun:
    """Greedy decoding with prompt-lookup drafts verified in one pass each (``logits_all=True``).

    ``propose`` and ``accept`` replace :func:`propose_ngram` and :func:`accept_greedy` (a learner's own).
    """
    propose = propose or propose_ngram
    accept = accept or accept_greedy
    llm.reset()
    llm.eval(list(prompt))
    context = list(prompt)
    out: list[int] = []
    start = time.perf_counter()
    pending = _argmax_rows(llm, llm.n_tokens - 1, 1)[0]  # the next token, known but not yet in the cache
    run = SpeculativeRun(out, 0.0, 0)
    while len(out) < max_tokens and pending != eos:
        out.append(pending)
        context.append(pending)
        if len(out) >= max_tokens:
            break
        draft = propose(context, min(k, max_tokens - len(out)), max_n=max_n, min_n=min_n)
        base = llm.n_tokens
        llm.eval([pending, *draft])  # one pass: the pending token and the guesses after it
        run.passes += 1
        choices = _argmax_rows(llm, base, len(draft) + 1)
        kept = accept(draft, choices)
        run.drafted += len(draft)
        run.accepted += len(kept) - 1
        run.per_pass.append(len(kept))
        for token in kept[:-1]:
            if token == eos or len(out) >= max_tokens:
                break
            out.append(token)
            context.append(token)
        llm.n_tokens = base + len(kept)  # drop the rejected guesses (the next eval clears them from the cache)
        pending = kept[-1]
        if eos in kept[:-1]:
            break
    run.seconds = time.perf_counter() - start
    run.tokens = out[:max_tokens]
    return run


__all__ = ["SpeculativeRun", "accept_greedy", "greedy_generate", "propose_ngram", "speculative_generate"]
