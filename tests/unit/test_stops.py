"""Stop sequences (OpenAI's ``stop``, Ollama's ``options.stop``): cut at the first, never shown in part."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from course.backends import BadRequestError, Reply, ScriptedBackend
from course.backends.stops import MAX_STOPS, StopMatcher, check_stop

TEXT = st.text(alphabet="ab,. ", max_size=40)


def expected(text: str, stops: list[str]) -> str:
    """Character by character: the reply ends when a stop sequence is first complete, without it."""
    for end in range(len(text) + 1):
        done = [end - len(s) for s in stops if text[:end].endswith(s)]
        if done:
            return text[:min(done)]
    return text


@given(TEXT, st.lists(st.text(alphabet="ab,. ", min_size=1, max_size=4), min_size=1, max_size=3),
       st.lists(st.integers(0, 40), max_size=8))
def test_streamed_pieces_show_exactly_the_text_before_the_first_stop(text, stops, cuts):
    bounds = sorted({0, len(text), *(c for c in cuts if c <= len(text))})
    pieces = [text[a:b] for a, b in zip(bounds, bounds[1:])]
    matcher, shown = StopMatcher(stops), ""
    for piece in pieces:
        shown += matcher.feed(piece)
        assert expected(text, stops).startswith(shown)  # never a character past the cut, at any moment
    shown += matcher.flush()
    assert shown == expected(text, stops)
    assert matcher.hit == any(s in text for s in stops)


def test_stop_accepts_a_string_or_a_list_and_refuses_the_rest():
    assert check_stop(None) == [] and check_stop("") == [] and check_stop("\n") == ["\n"]
    assert check_stop(["a", "b"]) == ["a", "b"]
    for bad in (["ok", ""], [1], {"a": 1}, b"x"):
        with pytest.raises(BadRequestError, match="stop must be a non-empty string or a list"):
            check_stop(bad)
    with pytest.raises(BadRequestError, match=f"at most {MAX_STOPS}"):
        check_stop(["x"] * (MAX_STOPS + 1))


def test_a_backend_without_stops_of_its_own_is_cut_by_the_base_class():
    backend = ScriptedBackend([Reply("Thought: look it up\nObservation: 42"), Reply("no stop here")])
    first = backend.chat([{"role": "user", "content": "hi"}], stop=["\nObservation:"])
    assert first.content == "Thought: look it up" and first.finish_reason == "stop"
    assert backend.chat([{"role": "user", "content": "hi"}], stop="zzz").content == "no stop here"
