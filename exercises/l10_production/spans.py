"""Exercise l10.4: an agent run's trace, from exported spans back to a tree, and where its time went.

OpenTelemetry exports spans one by one, in the order they *end*, as plain
records (``course.production.tracing`` writes them like this)::

    {"name": "chat smollm2-135m", "trace_id": "4bf9...", "span_id": "00f0...",
     "parent_id": "a3ce...", "start_ns": 1700000000000, "end_ns": 1700000350000, ...}

``parent_id`` is ``None`` for a trace's first span. A span whose parent is
not among the records (it was cut off, or exported elsewhere) is a root too.
"""


def build_tree(spans: list[dict]) -> list[dict]:
    """The spans as trees: one node per span, ``{"name", "span_id", "start_ns", "end_ns", "children"}``.

    Returns the roots; roots and every node's children are in the order they
    started (``start_ns``; spans that started together keep the order of the
    input). The input is not changed.
    """
    # YOUR CODE HERE: exercise l10.4, A trace back into a tree
    raise NotImplementedError("exercise l10.4: read lessons/l10_production/index.md#a-trace-back-into-a-tree, then run `course check l10`")


def self_time_ns(node: dict) -> int:
    """The time ``node`` spent on its own: its duration minus the time when at least one child ran.

    Children may overlap each other (tools called in parallel) and may reach
    outside their parent (clocks differ between processes): only the part of
    a child inside the parent's interval counts, and overlapping parts count once.
    """
    # YOUR CODE HERE: exercise l10.4, A trace back into a tree
    raise NotImplementedError("exercise l10.4: read lessons/l10_production/index.md#a-trace-back-into-a-tree, then run `course check l10`")
