"""Stop sequences: text that ends a reply where it first appears, and is not part of it.

OpenAI's ``stop`` and Ollama's ``options.stop`` (agent frameworks send them) end
a reply as soon as one of the strings is complete, without it. A streamed reply must
not show the start of a stop sequence before it knows whether the rest follows,
so :class:`StopMatcher` holds back the longest tail of the text that could
still grow into one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .types import BadRequestError

MAX_STOPS = 16


def check_stop(stop: Any) -> list[str]:
    """``stop`` as a list of non-empty strings (OpenAI takes a string or a list), or a clear 400."""
    if stop is None or stop == "" or stop == []:
        return []
    stops = [stop] if isinstance(stop, str) else stop
    if not isinstance(stops, Sequence) or isinstance(stops, (bytes, dict)) or \
            not all(isinstance(s, str) and s for s in stops):
        raise BadRequestError(f"stop must be a non-empty string or a list of them, got {stop!r:.80}")
    if len(stops) > MAX_STOPS:
        raise BadRequestError(f"stop has {len(stops)} sequences; give at most {MAX_STOPS}")
    return list(stops)


class StopMatcher:
    """Feed it the reply's text piece by piece; it returns what may be shown and whether a stop was reached."""

    def __init__(self, stops: Sequence[str]):
        self.stops = list(stops)
        self.pending = ""
        self.hit = False

    def feed(self, text: str) -> str:
        """The part of the text seen so far that can be shown now (nothing more once a stop is reached)."""
        if self.hit or not self.stops:
            return "" if self.hit else text
        self.pending += text
        found = [(i + len(s), i) for s, i in ((s, self.pending.find(s)) for s in self.stops) if i >= 0]
        if found:
            # the reply ends when a stop sequence is first complete, however the text came in pieces
            self.hit = True
            first_end = min(end for end, _ in found)
            shown = self.pending[:min(start for end, start in found if end == first_end)]
            self.pending = ""
            return shown
        keep = max((n for s in self.stops for n in range(min(len(s) - 1, len(self.pending)), 0, -1)
                    if self.pending.endswith(s[:n])), default=0)
        shown = self.pending[:len(self.pending) - keep]
        self.pending = self.pending[len(self.pending) - keep:]
        return shown

    def flush(self) -> str:
        """At the end of the reply: the held-back text, which turned out not to be a stop sequence."""
        rest, self.pending = ("" if self.hit else self.pending), ""
        return rest
