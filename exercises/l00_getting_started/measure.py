"""Exercise l00.5: measure time to first token and tokens per second.

Two numbers decide whether an agent feels fast on a laptop: how long until the
first token appears (the prompt is processed before that), and how fast the
rest streams (one read of every weight per token).
"""

from dataclasses import dataclass

from course.backends import ChatBackend


@dataclass
class Measurement:
    text: str  # the whole reply
    ttft_s: float | None  # request sent -> first non-empty chunk; None if nothing came back
    total_s: float  # request sent -> stream finished
    tokens: int  # completion tokens, from the final response's usage
    tokens_per_s: float | None  # (tokens - 1) / (total_s - ttft_s); None when it cannot be computed


def measure(backend: ChatBackend, messages: list, *, max_tokens: int = 64, clock=None) -> Measurement:
    """Stream a reply with ``backend.stream(messages, max_tokens=max_tokens)`` and time it.

    Read the time only through ``clock`` (default: ``backend.clock``), so tests can
    drive time exactly. Take the first reading just before calling ``stream``, one
    at the first chunk whose ``content`` is not empty, and one after the last chunk.
    The token count comes from the final response (``stream.response.usage``). The
    rate leaves out the first token, whose time is the prompt's: it is
    ``(tokens - 1) / (total_s - ttft_s)``, or None with fewer than 2 tokens or no time.
    """
    # YOUR CODE HERE: exercise l00.5, Measure time to first token and tokens per second
    raise NotImplementedError("exercise l00.5: read lessons/l00_getting_started/index.md#measure-your-agent, then run `course check l00`")
