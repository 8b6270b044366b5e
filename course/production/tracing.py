"""OpenTelemetry traces of agent runs, read back and printed as a tree (lesson 10).

The course's agent loop (``course.agent``) and ``course serve`` emit spans
through the OpenTelemetry API: ``invoke_agent``, ``chat <model>``,
``execute_tool <name>`` on the agent's side; ``POST /v1/chat/completions`` and
``generate <model>`` on the server's side, joined into the agent's trace by the
W3C ``traceparent`` header its HTTP clients send (``course.observability``).
The Microsoft Agent Framework emits its own spans through the same API.

- :func:`capture` installs the SDK's tracer provider (once per process) and
  collects the spans that end inside a ``with`` block, as plain dicts;
- :class:`JsonLinesExporter` writes finished spans to a local file, one JSON
  object per line, and :func:`load_spans` reads them back;
- :func:`span_tree` prints a trace as a tree with timings.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

_lock = threading.Lock()
_sinks: list[list[dict]] = []
_installed = False


def span_record(span: ReadableSpan) -> dict:
    """A finished span as plain data: what the tree, the file and the tests read."""
    ctx = span.get_span_context()
    return {
        "name": span.name,
        "trace_id": f"{ctx.trace_id:032x}",
        "span_id": f"{ctx.span_id:016x}",
        "parent_id": f"{span.parent.span_id:016x}" if span.parent is not None else None,
        "kind": span.kind.name,
        "start_ns": span.start_time,
        "end_ns": span.end_time,
        "status": span.status.status_code.name,
        "scope": span.instrumentation_scope.name if span.instrumentation_scope else "",
        "attributes": {k: (list(v) if isinstance(v, tuple) else v) for k, v in (span.attributes or {}).items()},
    }


class _FanOut(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        records = [span_record(s) for s in spans]
        with _lock:
            for sink in _sinks:
                sink.extend(records)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


class JsonLinesExporter(SpanExporter):
    """Finished spans appended to ``path``, one JSON object per line (:func:`span_record`'s shape)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = "".join(json.dumps(span_record(s)) + "\n" for s in spans)
        with self._lock, self.path.open("a") as f:
            f.write(lines)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


def provider() -> TracerProvider:
    """The process's SDK tracer provider, installed on first use (OpenTelemetry allows one per process)."""
    global _installed
    with _lock:
        current = trace.get_tracer_provider()
        if not isinstance(current, TracerProvider):
            current = TracerProvider(resource=Resource.create({"service.name": "course"}))
            trace.set_tracer_provider(current)
        if not _installed:
            current.add_span_processor(SimpleSpanProcessor(_FanOut()))
            _installed = True
        return current


def export_to(path: str | Path) -> None:
    """Also write every finished span to ``path`` (JSON lines) from now on."""
    provider().add_span_processor(SimpleSpanProcessor(JsonLinesExporter(path)))


@contextmanager
def capture() -> Iterator[list[dict]]:
    """The spans that end inside the block, in the order they ended."""
    provider()
    sink: list[dict] = []
    with _lock:
        _sinks.append(sink)
    try:
        yield sink
    finally:
        with _lock:
            _sinks.remove(sink)


def load_spans(path: str | Path) -> list[dict]:
    """Spans written by :class:`JsonLinesExporter`."""
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def _detail(span: dict) -> str:
    a = span["attributes"]
    parts = []
    if "gen_ai.usage.input_tokens" in a:
        parts.append(f"{a['gen_ai.usage.input_tokens']} in, {a.get('gen_ai.usage.output_tokens', 0)} out")
    if "course.ttft_s" in a:
        parts.append(f"first token {a['course.ttft_s'] * 1000:.0f} ms")
    if "course.tool.outcome" in a:
        parts.append(str(a["course.tool.outcome"]))
    if "http.response.status_code" in a:
        parts.append(f"status {a['http.response.status_code']}")
    if span["status"] == "ERROR":
        parts.append("ERROR")
    return ", ".join(parts)


def span_tree(spans: Sequence[dict]) -> str:
    """Each trace of ``spans`` as a tree: name, duration, and what the span says (tokens, time to first
    token, a tool's outcome, an HTTP status); children in the order they started."""
    by_id = {s["span_id"]: s for s in spans}
    children: dict[str | None, list[dict]] = {}
    for s in spans:
        parent = s["parent_id"] if s["parent_id"] in by_id else None
        children.setdefault(parent, []).append(s)
    for group in children.values():
        group.sort(key=lambda s: s["start_ns"])
    lines: list[str] = []

    def walk(span: dict, prefix: str, last: bool, root: bool) -> None:
        ms = (span["end_ns"] - span["start_ns"]) / 1e6
        detail = _detail(span)
        branch = "" if root else ("└─ " if last else "├─ ")
        lines.append(f"{prefix}{branch}{span['name']}  {ms:.1f} ms" + (f"  ({detail})" if detail else ""))
        kids = children.get(span["span_id"], [])
        inner = prefix if root else prefix + ("   " if last else "│  ")
        for i, kid in enumerate(kids):
            walk(kid, inner, i == len(kids) - 1, False)

    roots = children.get(None, [])
    for trace_id in dict.fromkeys(s["trace_id"] for s in roots):
        in_trace = [s for s in spans if s["trace_id"] == trace_id]
        lines.append(f"trace {trace_id[:16]}…  {len(in_trace)} spans")
        for root in (s for s in roots if s["trace_id"] == trace_id):
            walk(root, "", True, True)
    return "\n".join(lines)


def children_of(spans: Sequence[dict], parent: dict) -> list[dict]:
    return [s for s in spans if s["parent_id"] == parent["span_id"]]


def named(spans: Sequence[dict], prefix: str) -> list[dict[str, Any]]:
    return [s for s in spans if s["name"].startswith(prefix)]
