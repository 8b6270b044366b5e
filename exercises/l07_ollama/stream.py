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
    # YOUR CODE HERE: exercise l07.3, Read a streamed reply
    raise NotImplementedError("exercise l07.3: read lessons/l07_ollama/index.md#reading-the-stream, then run `course check l07`")
