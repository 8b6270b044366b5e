"""A scripted, fault-injecting backend for deterministic tests.

A :class:`ScriptedBackend` replays a list of steps, one step per request: a text
reply, a tool call, or a fault (malformed tool-call JSON, an unknown tool, wrong
argument types, an exception, a delay, an endless run of tool calls). It records
every request it receives, so a test can check what an agent sent back, for
example that a tool result reached the model with the right ``tool_call_id``.

Delays advance a :class:`FakeClock` instead of sleeping when one is given, which
makes timing tests exact::

    clock = FakeClock()
    fake = ScriptedBackend([Reply("It is noon.", first_token_delay=0.5, token_delay=0.1)], clock=clock)
    fake.chat([{"role": "user", "content": "time?"}]).timings.ttft_s   # 0.5 exactly
"""

from __future__ import annotations

import copy
import itertools
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from .base import ChatBackend
from .types import BackendError, ChatRequest, Delta, ToolCall, Usage


class FakeClock:
    """A clock that only moves when told to: ``clock()`` reads it, ``advance(s)`` moves it."""

    def __init__(self, start: float = 0.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        self.now += seconds


class ScriptExhaustedError(BackendError):
    """The code under test asked for more replies than the script has."""


@dataclass
class Reply:
    """A text answer, streamed word by word (each word counts as one token)."""

    text: str
    first_token_delay: float = 0.0
    token_delay: float = 0.0
    finish_reason: str = "stop"


@dataclass
class CallTool:
    """A tool call. ``arguments`` is a dict (encoded as JSON) or raw text, sent as is,
    so ``CallTool("get_current_time", '{"timezone": ')`` is a malformed call."""

    name: str
    arguments: dict | str = field(default_factory=dict)
    id: str | None = None
    content: str | None = None  # text some models put beside a call

    def raw_arguments(self) -> str:
        return self.arguments if isinstance(self.arguments, str) else json.dumps(self.arguments)


@dataclass
class CallTools:
    """Several tool calls in one reply (parallel tool calls)."""

    calls: list[CallTool]


@dataclass
class Raise:
    """The backend raises ``error`` instead of replying (a dropped connection, a server error)."""

    error: BaseException


@dataclass
class Delay:
    """Wait ``seconds`` before the wrapped step; with a FakeClock this is instant."""

    seconds: float
    then: Any


@dataclass
class Endless:
    """Repeat ``step`` for every request from here on: a model stuck calling tools."""

    step: Any


Step = Reply | CallTool | CallTools | Raise | Delay | Endless


# Named faults, so a test reads like the failure it injects.
def malformed_tool_call(name: str = "get_current_time") -> CallTool:
    """A call whose arguments are not valid JSON."""
    return CallTool(name, '{"timezone": "Europe/Par')


def unknown_tool_call(name: str = "launch_rocket") -> CallTool:
    """A call to a tool the agent does not have."""
    return CallTool(name, {})


def wrong_types_call(name: str = "get_current_time", **arguments: Any) -> CallTool:
    """A call whose arguments have the wrong JSON types (by default a number for a string)."""
    return CallTool(name, arguments or {"timezone": 42})


class ScriptedBackend(ChatBackend):
    """Replays ``script``; ``requests`` holds a deep copy of every request received."""

    name = "fake"

    def __init__(self, script: Sequence[Step], *, model: str = "fake-model", clock=None):
        super().__init__(clock=clock)
        self.model = model
        self.script = list(script)
        self.requests: list[ChatRequest] = []
        self._position = 0
        self._endless: Any = None
        self._ids = itertools.count(1)

    @property
    def remaining(self) -> int:
        """Steps not yet replayed (0 once an Endless step is reached)."""
        return 0 if self._endless else len(self.script) - self._position

    def _sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        advance = getattr(self.clock, "advance", None)
        if advance is not None:
            advance(seconds)
        else:
            time.sleep(seconds)

    def _next_step(self) -> Any:
        if self._endless is not None:
            return self._endless
        if self._position >= len(self.script):
            raise ScriptExhaustedError(
                f"the fake model's script has {len(self.script)} step(s) and request "
                f"{len(self.requests)} asked for one more: the code under test called the model "
                "more often than the test expected"
            )
        step = self.script[self._position]
        self._position += 1
        if isinstance(step, Endless):
            self._endless = step.step
            return step.step
        return step

    def _generate(self, request: ChatRequest) -> Iterator[Delta]:
        self.requests.append(copy.deepcopy(request))
        step = self._next_step()
        while isinstance(step, Delay):
            self._sleep(step.seconds)
            step = step.then
        prompt_tokens = sum(self.count_tokens(m.get("content") or "") for m in request.messages)
        if isinstance(step, Raise):
            raise step.error
        if isinstance(step, Reply):
            words = step.text.split(" ")
            self._sleep(step.first_token_delay)
            for i, word in enumerate(words):
                if i:
                    self._sleep(step.token_delay)
                yield Delta(content=word if i == 0 else " " + word, tokens=1)
            yield Delta(finish_reason=step.finish_reason,
                        usage=Usage(prompt_tokens, len(words)))
            return
        calls = step.calls if isinstance(step, CallTools) else [step]
        if not all(isinstance(c, CallTool) for c in calls):
            raise TypeError(f"unknown script step {step!r}")
        if calls[0].content:
            yield Delta(content=calls[0].content, tokens=self.count_tokens(calls[0].content))
        tool_calls = [ToolCall(c.id or f"call_{next(self._ids)}", c.name, c.raw_arguments()) for c in calls]
        tokens = sum(self.count_tokens(c.raw_arguments()) + 1 for c in calls)
        yield Delta(tool_calls=tool_calls, tokens=tokens, finish_reason="tool_calls",
                    usage=Usage(prompt_tokens, tokens))
