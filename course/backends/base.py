"""One chat interface over every backend.

A backend implements a single generator, :meth:`ChatBackend._generate`, that yields
:class:`~course.backends.types.Delta` pieces. Everything the learner sees is built
here once for all backends: request validation, streaming chunks, the assembled
response, token usage and the timings (time to first token, tokens per second).
"""

from __future__ import annotations

import json
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .stops import StopMatcher, check_stop
from .types import (
    BackendTimeoutError,
    BadRequestError,
    ChatChunk,
    ChatRequest,
    ChatResponse,
    Delta,
    Timings,
    ToolCall,
    Usage,
)

Clock = Callable[[], float]
TOOL_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


def tool_specs(tools: Sequence[Any] | None) -> list[dict]:
    """OpenAI tool specs from :class:`course.tools.Tool` objects or spec dicts."""
    specs = []
    for t in tools or ():
        spec = t.spec() if hasattr(t, "spec") else t
        if not isinstance(spec, dict) or spec.get("type") != "function" or "name" not in spec.get("function", {}):
            raise BadRequestError(
                f"tools must be course.tools.Tool objects or OpenAI tool specs "
                f'({{"type": "function", "function": {{"name": ..., "parameters": ...}}}}), got {t!r:.80}'
            )
        name = spec["function"]["name"]
        if not isinstance(name, str) or not TOOL_NAME.fullmatch(name):
            raise BadRequestError(
                f"tool name {name!r:.70} is not valid: use 1 to 64 letters, digits, underscores or dashes "
                "(OpenAI's rule for function names)")
        parameters = spec["function"].get("parameters")
        if parameters is not None and not isinstance(parameters, dict):
            raise BadRequestError(
                f"tool {name}: parameters must be a JSON schema object such as "
                f'{{"type": "object", "properties": {{...}}}}, got a JSON {type(parameters).__name__}')
        specs.append(spec)
    return specs


def normalize_content(content: Any) -> str | None:
    """Message content as text: a string, ``None``, or a list of text parts."""
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and part.get("type") == "text":
                parts.append(str(part.get("text", "")))
            else:
                raise BadRequestError(f"only text content parts are supported, got {part!r:.80}")
        return "".join(parts)
    raise BadRequestError(f"message content must be a string, null or a list of text parts, got {type(content).__name__}")


ROLES = {"system", "developer", "user", "assistant", "tool"}


def normalize_messages(messages: Sequence[dict]) -> list[dict]:
    """Validate messages and flatten their content to text, keeping every standard shape."""
    if not messages:
        raise BadRequestError("messages is empty: send at least one user message")
    out = []
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict) or msg.get("role") not in ROLES:
            raise BadRequestError(
                f"message {i} must be a dict with a role in {sorted(ROLES)}, got {msg!r:.100}"
            )
        norm = dict(msg)
        norm["content"] = normalize_content(msg.get("content"))
        if msg.get("tool_calls") is not None:
            norm["tool_calls"] = _normalize_calls(msg["tool_calls"], i)
        if msg["role"] == "tool" and not msg.get("tool_call_id"):
            raise BadRequestError(f"message {i} (role tool) needs the tool_call_id of the call it answers")
        out.append(norm)
    return out


def _normalize_calls(calls: Any, i: int) -> list[dict]:
    """An assistant message's ``tool_calls``: a list of ``{"id", "function": {"name", "arguments"}}``,
    with the arguments as JSON text (an object is accepted and serialised)."""
    shape = '[{"id": ..., "type": "function", "function": {"name": ..., "arguments": "{...}"}}]'
    if not isinstance(calls, list):
        raise BadRequestError(f"message {i}: tool_calls must be a list like {shape}")
    out = []
    for j, call in enumerate(calls):
        fn = call.get("function") if isinstance(call, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise BadRequestError(f"message {i}: tool_calls[{j}] needs function.name, like {shape}")
        args = fn.get("arguments", "{}")
        if isinstance(args, dict):
            args = json.dumps(args)
        if not isinstance(args, str):
            raise BadRequestError(f"message {i}: tool_calls[{j}].function.arguments must be JSON text")
        out.append({"id": str(call.get("id") or f"call_{j + 1}"), "type": "function",
                    "function": {"name": fn["name"], "arguments": args}})
    return out


def _check_tool_choice(tool_choice: Any, tools: list[dict]) -> None:
    if tool_choice in (None, "auto", "none"):
        return
    names = [t["function"]["name"] for t in tools]
    if tool_choice == "required":
        if not tools:
            raise BadRequestError('tool_choice="required" needs at least one tool')
        return
    if isinstance(tool_choice, dict):
        name = tool_choice.get("function", {}).get("name")
        if name in names:
            return
        raise BadRequestError(f"tool_choice names tool {name!r}, which is not among the tools given: {names}")
    raise BadRequestError(
        'tool_choice must be "auto", "none", "required" or {"type": "function", "function": {"name": ...}}, '
        f"got {tool_choice!r}"
    )


def _check_response_format(rf: Any) -> None:
    if rf is None:
        return
    if not isinstance(rf, dict) or rf.get("type") not in {"text", "json_object", "json_schema"}:
        raise BadRequestError(
            'response_format must be {"type": "json_schema", "json_schema": {"name": ..., "schema": {...}}}, '
            f'{{"type": "json_object"}} or {{"type": "text"}}, got {rf!r:.100}'
        )
    if rf["type"] == "json_schema" and not isinstance(rf.get("json_schema", {}).get("schema"), dict):
        raise BadRequestError('response_format of type json_schema needs json_schema.schema, a JSON schema dict')


def _check_timeout(timeout_s: Any) -> float | None:
    if timeout_s is None:
        return None
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) or not timeout_s > 0:
        raise BadRequestError(f"timeout_s must be a positive number of seconds, got {timeout_s!r}")
    return float(timeout_s)


class ChatStream:
    """An iterator of :class:`ChatChunk`; after the last one, ``response`` holds the whole reply."""

    def __init__(self, chunks: Iterator[ChatChunk]):
        self._chunks = chunks
        self.response: ChatResponse | None = None

    def __iter__(self) -> Iterator[ChatChunk]:
        for chunk in self._chunks:
            if chunk.response is not None:
                self.response = chunk.response
            yield chunk

    def close(self) -> None:
        """Stop generating now (a client went away): the backend's generator is closed."""
        close = getattr(self._chunks, "close", None)
        if close:
            close()

    def collect(self) -> ChatResponse:
        """Consume the stream and return the assembled response."""
        for _ in self:
            pass
        assert self.response is not None
        return self.response


class ChatBackend(ABC):
    """Base of every backend: subclasses implement :meth:`_generate` only.

    ``clock`` is the time source for timings; tests pass a fake clock so that
    timings are exact instead of wall-clock dependent.
    """

    name: str = "backend"
    model: str = ""
    # True when _generate ends the reply at request.stop itself (and so stops generating there); otherwise
    # the base class cuts the text at the first stop sequence
    native_stop: bool = False

    def __init__(self, *, clock: Clock | None = None):
        self.clock: Clock = clock or time.perf_counter

    @abstractmethod
    def _generate(self, request: ChatRequest) -> Iterator[Delta]:
        """Yield the reply as deltas; tool calls come complete, at most once per call."""

    def count_tokens(self, text: str) -> int:
        """Tokens in ``text``, used when a backend does not report usage itself."""
        return len(text.split())

    def stream(
        self,
        messages: Sequence[dict],
        *,
        tools: Sequence[Any] | None = None,
        tool_choice: str | dict | None = None,
        response_format: dict | None = None,
        temperature: float = 0.0,
        seed: int | None = None,
        max_tokens: int = 256,
        stop: str | Sequence[str] | None = None,
        timeout_s: float | None = None,
    ) -> ChatStream:
        """Stream a reply. Arguments follow OpenAI's chat completions API.

        ``timeout_s`` bounds the whole reply: when it passes, generation stops (between two tokens, even in
        the middle of a tool call that shows no text) and the stream raises :class:`BackendTimeoutError`.
        The prompt's processing before the first token cannot be cut short.
        """
        specs = tool_specs(tools)
        _check_tool_choice(tool_choice, specs)
        _check_response_format(response_format)
        if not isinstance(max_tokens, int) or max_tokens < 1:
            raise BadRequestError(f"max_tokens must be a positive integer, got {max_tokens!r}")
        if not 0.0 <= float(temperature) <= 2.0:
            raise BadRequestError(f"temperature must be between 0 and 2, got {temperature!r}")
        request = ChatRequest(
            messages=normalize_messages(messages),
            tools=specs,
            tool_choice=(tool_choice or "auto") if specs else None,
            response_format=response_format,
            temperature=float(temperature),
            seed=seed,
            max_tokens=max_tokens,
            stop=check_stop(stop),
            timeout_s=_check_timeout(timeout_s),
        )
        return ChatStream(self._chunks(request))

    def chat(self, messages: Sequence[dict], **kwargs: Any) -> ChatResponse:
        """A complete reply; same arguments as :meth:`stream`."""
        return self.stream(messages, **kwargs).collect()

    def _chunks(self, request: ChatRequest, deltas: Iterator[Delta] | None = None) -> Iterator[ChatChunk]:
        """Turn deltas (by default ``self._generate(request)``) into chunks, timing them."""
        start = self.clock()
        first: float | None = None
        text: list[str] = []
        calls: list[ToolCall] = []
        usage: Usage | None = None
        tokens = 0
        finish = None
        stops = StopMatcher([] if self.native_stop else request.stop)
        deadline = None if request.timeout_s is None else start + request.timeout_s
        source = deltas if deltas is not None else self._generate(request)
        for delta in source:
            if deadline is not None and self.clock() >= deadline:
                close = getattr(source, "close", None)
                if close:
                    close()  # the backend's generator ends here: llama.cpp stops sampling
                raise BackendTimeoutError(
                    f"the reply took longer than its timeout of {request.timeout_s:g} s "
                    f"({tokens} tokens in): generation was stopped")
            if (delta.content or delta.tool_calls or delta.tokens) and first is None:
                first = self.clock()
            tokens += delta.tokens
            calls.extend(delta.tool_calls)
            usage = delta.usage or usage
            finish = delta.finish_reason or finish
            shown = stops.feed(delta.content) if delta.content else ""
            if shown:
                text.append(shown)
                yield ChatChunk(content=shown)
        rest = stops.flush()
        if rest:
            text.append(rest)
            yield ChatChunk(content=rest)
        if stops.hit:
            finish = "stop"
        end = self.clock()
        content = "".join(text)
        if usage is None:
            usage = Usage(
                prompt_tokens=sum(self.count_tokens(m.get("content") or "") for m in request.messages),
                completion_tokens=tokens or self.count_tokens(content),
                estimated=True,
            )
        if calls:
            finish = "tool_calls"
        response = ChatResponse(
            content=content if content or not calls else None,
            tool_calls=calls,
            finish_reason=finish or "stop",
            usage=usage,
            timings=Timings(
                ttft_s=None if first is None else first - start,
                total_s=end - start,
                completion_tokens=usage.completion_tokens,
            ),
            model=self.model,
        )
        yield ChatChunk(finish_reason=response.finish_reason, response=response)

    def close(self) -> None:
        """Release what the backend holds (HTTP connections, a loaded model)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
