"""The records that cross the chat interface: requests, tool calls, responses, chunks.

Messages going *in* are plain OpenAI-shaped dicts (``{"role": "user", "content": "..."}``),
the shape every serving stack in this course speaks. What comes *out* is typed: a
:class:`ChatResponse` with the text, the :class:`ToolCall` list, :class:`Usage` and
:class:`Timings`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

FinishReason = Literal["stop", "length", "tool_calls"]


class BackendError(Exception):
    """A backend could not produce a reply (the server answered with an error, ...)."""


class BackendUnavailableError(BackendError):
    """The backend cannot be reached or loaded; the message says how to start or install it."""


class BackendTimeoutError(BackendError):
    """The backend did not answer in time."""


class BadRequestError(BackendError, ValueError):
    """The request itself is wrong (unknown tool in tool_choice, bad response_format, ...)."""


@dataclass
class ToolCall:
    """One call a model asked for. ``arguments`` is the raw JSON text the model produced,
    kept as text so that a malformed call reaches the agent loop intact."""

    id: str
    name: str
    arguments: str

    def parsed_arguments(self) -> Any:
        """The arguments decoded from JSON; raises ``json.JSONDecodeError`` when malformed."""
        return json.loads(self.arguments) if self.arguments.strip() else {}

    def to_openai(self) -> dict:
        return {"id": self.id, "type": "function", "function": {"name": self.name, "arguments": self.arguments}}


@dataclass
class Usage:
    """Token counts. ``estimated`` is True when the backend did not report them and the
    course counted instead (streamed chunks for the reply, words for the prompt)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated: bool = False

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass
class Timings:
    """Wall-clock figures of one reply, all in seconds.

    ``ttft_s`` is the time from sending the request to the first generated token;
    ``tokens_per_s`` is the decode rate after that first token:
    ``(completion_tokens - 1) / (total_s - ttft_s)``.
    """

    ttft_s: float | None = None
    total_s: float = 0.0
    completion_tokens: int = 0

    @property
    def tokens_per_s(self) -> float | None:
        if self.ttft_s is None or self.completion_tokens < 2:
            return None
        decode = self.total_s - self.ttft_s
        return (self.completion_tokens - 1) / decode if decode > 0 else None


@dataclass
class ChatRequest:
    """Everything a backend needs for one reply, validated by :meth:`ChatBackend.stream`."""

    messages: list[dict]
    tools: list[dict] = field(default_factory=list)  # OpenAI tool specs
    tool_choice: str | dict | None = None  # "auto" | "none" | "required" | {"type": "function", ...}
    response_format: dict | None = None
    temperature: float = 0.0
    seed: int | None = None
    max_tokens: int = 256
    stop: list[str] = field(default_factory=list)  # stop sequences: the reply ends before the first one
    timeout_s: float | None = None  # the whole reply's time; past it the backend stops generating (lesson 10)

    @property
    def forced_tool(self) -> str | None:
        """The tool name when ``tool_choice`` forces one function."""
        if isinstance(self.tool_choice, dict):
            return self.tool_choice.get("function", {}).get("name")
        return None

    @property
    def tools_active(self) -> bool:
        return bool(self.tools) and self.tool_choice != "none"

    @property
    def json_schema(self) -> dict | None:
        """The JSON schema of ``response_format`` (``{}`` for plain ``json_object``)."""
        rf = self.response_format
        if not rf:
            return None
        if rf.get("type") == "json_schema":
            return rf["json_schema"].get("schema", {})
        if rf.get("type") == "json_object":
            return rf.get("schema") or {}
        return None


@dataclass
class ChatResponse:
    """A complete reply."""

    content: str | None
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: FinishReason = "stop"
    usage: Usage = field(default_factory=Usage)
    timings: Timings = field(default_factory=Timings)
    model: str = ""

    def message(self) -> dict:
        """The assistant message to append to the conversation history."""
        msg: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.tool_calls:
            msg["tool_calls"] = [call.to_openai() for call in self.tool_calls]
        return msg


@dataclass
class ChatChunk:
    """One piece of a streamed reply. The last chunk has ``finish_reason`` set and
    carries the assembled :class:`ChatResponse` in ``response``."""

    content: str = ""
    finish_reason: FinishReason | None = None
    response: ChatResponse | None = None


@dataclass
class Delta:
    """What a backend's generator yields to the shared streaming machinery."""

    content: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: FinishReason | None = None
    usage: Usage | None = None
    tokens: int = 0  # generated tokens this delta stands for, when the backend knows


def json_schema_format(schema: dict, name: str = "response") -> dict:
    """``response_format`` for output constrained to ``schema`` (OpenAI's shape)."""
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}
