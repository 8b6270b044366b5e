"""Exercise l04.5: choosing a runtime and settings under a budget.

``course bench runtimes`` and ``course bench knobs`` measure, for each
runtime or setting, the memory it adds, its time to first token and its
decode speed. A deployment has budgets: so much memory, so long a wait for
the first token. Choose from measurements, not from reputations.
"""

from collections.abc import Sequence


def choose_setup(rows: Sequence[dict], memory_mb: float, ttft_s: float) -> dict:
    """The row that fits both budgets and decodes fastest.

    Each row has ``"name"``, ``"memory_mb"``, ``"ttft_s"`` and
    ``"tokens_per_s"``. A row fits when its ``memory_mb <= memory_mb`` and its
    ``ttft_s <= ttft_s``. Among the rows that fit, the highest
    ``tokens_per_s`` wins; on a tie the one using less memory; on a tie again
    the first in ``rows``. When none fits, raise ``LookupError`` whose message
    says which budget no row meets: ``"memory"`` when no row fits the memory
    budget, ``"first token"`` when no row fits the latency budget, and both
    words when each budget is met by some row but never both by the same one.
    """
    ### BEGIN SOLUTION
    fits = [r for r in rows if r["memory_mb"] <= memory_mb and r["ttft_s"] <= ttft_s]
    if not fits:
        problems = []
        if not any(r["memory_mb"] <= memory_mb for r in rows):
            problems.append(f"no setup fits the memory budget of {memory_mb} MB")
        if not any(r["ttft_s"] <= ttft_s for r in rows):
            problems.append(f"no setup gives its first token within {ttft_s} s")
        if not problems:
            problems.append(f"setups fit the memory budget ({memory_mb} MB) or the first token budget "
                            f"({ttft_s} s), never both")
        raise LookupError("; ".join(problems))
    best = fits[0]
    for r in fits[1:]:
        if (r["tokens_per_s"], -r["memory_mb"]) > (best["tokens_per_s"], -best["memory_mb"]):
            best = r
    return best
    ### END SOLUTION
