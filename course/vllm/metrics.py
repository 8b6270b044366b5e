"""Monitoring vLLM from its own ``/metrics``: Prometheus text, parsed, and percentiles from histograms.

vLLM's server exports about a hundred series in Prometheus' text format at
``/metrics`` (names start with ``vllm:``): requests running and waiting, KV
cache usage, prefix cache queries and hits, preemptions, speculative tokens
drafted and accepted, and histograms of time to first token, time per output
token and end-to-end latency. Monitoring is reading them, not timing a
one-token request and calling ``1000 / latency`` "requests per second", as the
source's monitoring class does.

The text is parsed by ``prometheus_client``'s own parser. A *histogram* is a
set of cumulative buckets (``le``: the count of observations at most that
value); :func:`histogram_quantile` estimates a percentile from them the way
Prometheus' ``histogram_quantile()`` does: find the bucket where the rank
falls and interpolate linearly inside it.
"""

from __future__ import annotations

import math
import urllib.request
from collections.abc import Sequence

# The series ``course bench vllm`` and the lesson read, by what they mean.
SERIES = {
    "running": "vllm:num_requests_running",
    "waiting": "vllm:num_requests_waiting",
    "kv_cache_usage": "vllm:kv_cache_usage_perc",
    "prefix_queries": "vllm:prefix_cache_queries_total",
    "prefix_hits": "vllm:prefix_cache_hits_total",
    "preemptions": "vllm:num_preemptions_total",
    "prompt_tokens": "vllm:prompt_tokens_total",
    "generation_tokens": "vllm:generation_tokens_total",
    "spec_drafts": "vllm:spec_decode_num_drafts_total",
    "spec_draft_tokens": "vllm:spec_decode_num_draft_tokens_total",
    "spec_accepted": "vllm:spec_decode_num_accepted_tokens_total",
}
TTFT = "vllm:time_to_first_token_seconds"


def parse(text: str) -> dict[str, list[tuple[dict, float]]]:
    """Every sample of a Prometheus text page: ``{sample name: [(labels, value), ...]}``."""
    from prometheus_client.parser import text_string_to_metric_families

    samples: dict[str, list[tuple[dict, float]]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples.setdefault(s.name, []).append((dict(s.labels), float(s.value)))
    return samples


def scrape(url: str, timeout: float = 10.0) -> dict[str, list[tuple[dict, float]]]:
    """``GET url/metrics``, parsed."""
    with urllib.request.urlopen(url.rstrip("/") + "/metrics", timeout=timeout) as reply:
        return parse(reply.read().decode())


def total(samples: dict, name: str) -> float | None:
    """The sum of a series over its labels (a counter or gauge per model or engine), or None when absent."""
    values = [v for _, v in samples.get(name, [])]
    return sum(values) if values else None


def buckets(samples: dict, histogram: str) -> list[tuple[float, float]]:
    """A histogram's cumulative buckets ``[(le, count), ...]``, summed over its other labels, ``le`` ascending."""
    by_le: dict[float, float] = {}
    for labels, value in samples.get(histogram + "_bucket", []):
        le = float(labels["le"])
        by_le[le] = by_le.get(le, 0.0) + value
    return sorted(by_le.items())


def histogram_quantile(q: float, cumulative: Sequence[tuple[float, float]]) -> float:
    """The ``q``-quantile (0 to 1) of a histogram's cumulative ``(upper bound, count)`` buckets, as Prometheus
    estimates it.

    The rank is ``q * total``; the first bucket whose count reaches it holds
    the quantile, interpolated linearly between that bucket's lower bound (the
    previous bound, or 0) and its upper bound. A rank in the ``+Inf`` bucket
    gives the largest finite bound. No observations give NaN.
    """
    if not 0 <= q <= 1:
        raise ValueError(f"q must be from 0 to 1, got {q}")
    if not cumulative or cumulative[-1][0] != math.inf:
        raise ValueError("a histogram's buckets must end with +Inf")
    count = cumulative[-1][1]
    if count == 0:
        return math.nan
    rank = q * count
    lower, below = 0.0, 0.0
    for upper, seen in cumulative:
        if seen >= rank:
            if upper == math.inf:
                return lower
            if seen == below:
                return upper
            return lower + (upper - lower) * (rank - below) / (seen - below)
        lower, below = upper, seen
    return lower


def difference(after: dict, before: dict, histogram: str) -> list[tuple[float, float]]:
    """The buckets of the observations made between two scrapes."""
    earlier = dict(buckets(before, histogram))
    return [(le, count - earlier.get(le, 0.0)) for le, count in buckets(after, histogram)]


def summary(samples: dict) -> dict:
    """The figures the lesson reads from one scrape."""
    out = {key: total(samples, name) for key, name in SERIES.items()}
    ttft = buckets(samples, TTFT)
    out["ttft_p50_s"] = histogram_quantile(0.5, ttft) if ttft else None
    out["ttft_p95_s"] = histogram_quantile(0.95, ttft) if ttft else None
    return out


__all__ = ["SERIES", "buckets", "difference", "histogram_quantile", "parse", "scrape", "summary", "total"]
