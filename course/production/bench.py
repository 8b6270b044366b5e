"""Lesson 10's measurements behind ``course bench redteam``, ``redaction`` and ``prometheus``.

Each returns plain data that ``--save`` commits beside the lesson and the page's
tables are made from (:mod:`course.bench.record`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace

from .redteam import SUITE, Defences, run_suite, success_rates

DEFENCE_NAMES = ("allow_list", "validate", "quarantine", "output_filter", "confirm")


def defence_sets(ablation: bool) -> list[Defences]:
    """None, each defence alone (with ``ablation``), all of them."""
    singles = [replace(Defences(), **{name: True}) for name in DEFENCE_NAMES] if ablation else []
    return [Defences(), *singles, Defences.all()]


def bench_redteam(models: list[str], *, ablation: tuple[str, ...] = (),
                  progress: Callable[[str], None] | None = None) -> dict:
    """The course's injection suite on each model: success per category and per case, per set of defences."""
    from ..backends.llama_cpp import LlamaCppBackend

    say = progress or (lambda _: None)
    out = {"cases": [{"id": a.id, "category": a.category, "goal": a.goal, "message": a.message}
                     for a in SUITE], "models": {}}
    for alias in models:
        backend = LlamaCppBackend(alias)
        runs = {}
        for defences in defence_sets(alias in ablation):
            say(f"{alias}: {defences.label}")
            start = time.perf_counter()
            results = run_suite(backend, SUITE, [defences])[defences.label]
            runs[defences.label] = {
                "rates": {k: list(v) for k, v in success_rates(results).items()},
                "seconds": round(time.perf_counter() - start, 1),
                "cases": {r.attack.id: {"success": r.success, "tool_calls": r.tool_calls,
                                          "answer": r.answer[:200], "error": r.error} for r in results}}
        backend.close()
        out["models"][alias] = runs
    return out


def bench_redaction() -> dict:
    """The course's redactor, and Presidio where the production extra is installed, on the shipped set."""
    from .redact import course_finder, evaluate, shipped_set

    data = shipped_set()
    rows = {"course": evaluate(course_finder, data)}
    note = ""
    try:
        from .redact import presidio_finder

        rows["presidio"] = evaluate(presidio_finder(), data)
    except ImportError as exc:
        note = f"Presidio not measured: {exc} (pip install 'edge-agents-course[production]')"
    return {"texts": len(data), "note": note,
            "finders": {name: {kind: {"tp": s.true_positives, "fp": s.false_positives, "fn": s.false_negatives, "precision": round(s.precision, 3),
                                      "recall": round(s.recall, 3)} for kind, s in scores.items()}
                        for name, scores in rows.items()}}


def promql(model: str) -> dict[str, str]:
    """The queries a dashboard of ``course serve`` runs, for one model (Prometheus' own scrapes left out)."""
    sel = 'job="course-serve", face!="metrics"'
    return {
        "requests": f"sum(course_requests_total{{{sel}}})",
        "errors": f'sum(course_requests_total{{{sel}, status=~"4..|5.."}})',
        "error_ratio": f'sum(course_requests_total{{{sel}, status=~"4..|5.."}}) / sum(course_requests_total{{{sel}}})',
        "p50_latency_s": f'histogram_quantile(0.50, sum by (le) (course_request_duration_seconds_bucket'
                         f'{{{sel}, model="{model}"}}))',
        "p95_latency_s": f'histogram_quantile(0.95, sum by (le) (course_request_duration_seconds_bucket'
                         f'{{{sel}, model="{model}"}}))',
        "p95_ttft_s": f'histogram_quantile(0.95, sum by (le) (course_time_to_first_token_seconds_bucket'
                      f'{{{sel}, model="{model}"}}))',
        "tokens": f'sum(course_generated_tokens_total{{job="course-serve", model="{model}"}})',
        "tokens_per_s": f'sum(rate(course_generated_tokens_total{{job="course-serve", model="{model}"}}[1m]))',
        "resident_mib": 'max(process_resident_memory_bytes{job="course-serve"}) / 1024 / 1024',
    }


def load_and_query(server_url: str, prom, *, model: str, requests: int = 24, clients: int = 2,
                   max_tokens: int = 24, bad_every: int = 6) -> dict:
    """A bounded load on ``server_url`` (every ``bad_every``-th request names a model that is not there), then PromQL.

    ``prom`` is a started :class:`~course.production.prometheus.PrometheusServer` scraping the server.
    """
    import httpx

    from ..observability import percentile

    sent: list[tuple[int, float]] = []
    lock = threading.Lock()
    counter = iter(range(requests))

    def client() -> None:
        with httpx.Client(timeout=120) as http:
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                name = "missing-model" if bad_every and i % bad_every == bad_every - 1 else model
                start = time.perf_counter()
                r = http.post(server_url + "/v1/chat/completions", json={
                    "model": name, "max_tokens": max_tokens, "temperature": 0,
                    "messages": [{"role": "user", "content": f"Name a colour. ({i})"}]})
                with lock:
                    sent.append((r.status_code, time.perf_counter() - start))

    prom.wait_for_scrapes(1)
    start = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    prom.wait_for_scrapes(prom.scrapes() + 2)  # two scrapes after the last request: every count is in
    queries = promql(model)
    values = {name: prom.value(expr) for name, expr in queries.items()}
    ok = sorted(s for code, s in sent if code == 200)
    return {"model": model, "requests": requests, "clients": clients, "max_tokens": max_tokens,
            "load_s": round(seconds, 2), "client_ok": len(ok), "client_errors": len(sent) - len(ok),
            "client_p50_s": round(percentile(ok, 50), 3) if ok else None,
            "client_p95_s": round(percentile(ok, 95), 3) if ok else None,  # exact, beside Prometheus' estimates
            "promql": {k: (round(v, 4) if v is not None else None) for k, v in values.items()},
            "queries": queries, "alerts": [a.get("labels", {}).get("alertname") for a in prom.alerts()]}
