"""Exercise l07.3: read a streamed ``/api/chat`` reply, NDJSON line by line.

Each line is one JSON object. The text arrives piece by piece in
``message.content``; tool calls arrive in ``message.tool_calls``; the last line
has ``"done": true`` and the counts and durations (nanoseconds). A line with an
``error`` key is the server failing after it began to answer.

A stream can end without its last line (the server crashed, the network
dropped): the text so far is not the answer, so say so instead of returning it.
"""

import json


class StreamError(ValueError):
    """The stream is broken: an error line, a line that is not JSON, or no final line."""


def read_chat_stream(lines) -> dict:
    """Join a streamed chat reply.

    ``lines`` yields the lines (``bytes`` or ``str``, with or without the newline; blank lines are skipped).
    Returns ``{"content": str, "tool_calls": list, "eval_count": int, "tokens_per_s": float | None}``,
    where tokens per second is ``eval_count`` over ``eval_duration`` (in nanoseconds), ``None`` if that is 0.
    Raise :class:`StreamError` naming the line number (from 1) for a line that is not a JSON object,
    with the server's message for an error line, and when no line has ``"done": true``.
    """
    ### BEGIN SOLUTION
    content, calls, final = [], [], None
    for number, raw in enumerate(lines, start=1):
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        if not text.strip():
            continue
        try:
            part = json.loads(text)
        except json.JSONDecodeError as exc:
            raise StreamError(f"line {number} is not JSON ({exc.msg}): {text[:60]!r}") from None
        if not isinstance(part, dict):
            raise StreamError(f"line {number} is not a JSON object")
        if "error" in part:
            raise StreamError(f"the server failed mid-stream: {part['error']}")
        message = part.get("message") or {}
        content.append(message.get("content") or "")
        calls.extend(message.get("tool_calls") or [])
        if part.get("done"):
            final = part
            break
    if final is None:
        raise StreamError("the stream ended without its final line: the reply is incomplete")
    count = final.get("eval_count") or 0
    duration = final.get("eval_duration") or 0
    return {"content": "".join(content), "tool_calls": calls, "eval_count": count,
            "tokens_per_s": count / (duration / 1e9) if duration else None}
    ### END SOLUTION
