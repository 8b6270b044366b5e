"""Ollama's native REST API (``/api/chat``) through the official ``ollama`` client.

Differences from the OpenAI protocol that this backend bridges:

- tool-call arguments travel as JSON objects, not as JSON text;
- a tool result names its tool (``tool_name``) instead of a ``tool_call_id``;
- structured output is the ``format`` field (a JSON schema, or ``"json"``);
- sampling settings go in ``options`` (``temperature``, ``seed``, ``num_predict``);
- there is no ``tool_choice``: a forced or required tool is emulated by setting
  ``format`` to the schema of a call, so the model can only answer with one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from .base import ChatBackend
from .toolcall_text import call_schema, parse_tool_calls
from .types import (
    BackendError,
    BackendUnavailableError,
    BadRequestError,
    ChatRequest,
    Delta,
    ToolCall,
    Usage,
)


class OllamaBackend(ChatBackend):
    """A model served by Ollama (or by ``course serve``'s Ollama face) at ``host``."""

    name = "ollama"
    native_stop = True  # the server ends the reply at the stop sequences

    def __init__(self, model: str, *, host: str = "http://127.0.0.1:11434", timeout: float = 120.0, clock=None):
        super().__init__(clock=clock)
        try:
            import httpx
            import ollama
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise BackendUnavailableError("the ollama client is not installed: pip install ollama") from exc
        self._ollama = ollama
        self._httpx = httpx
        self.host = host
        self.model = model
        from ..observability import trace_event_hooks

        # the trace context travels with every request: course serve's spans join the caller's trace
        self.client = ollama.Client(host=host, timeout=timeout, event_hooks=trace_event_hooks())

    def _wire_messages(self, request: ChatRequest) -> list[dict]:
        names: dict[str, str] = {}
        out = []
        for m in request.messages:
            role = "system" if m["role"] == "developer" else m["role"]
            msg: dict[str, Any] = {"role": role, "content": m.get("content") or ""}
            if m.get("tool_calls"):
                calls = []
                for c in m["tool_calls"]:
                    names[c.get("id")] = c["function"]["name"]
                    try:
                        args = json.loads(c["function"]["arguments"] or "{}")
                    except json.JSONDecodeError:
                        args = {"_raw": c["function"]["arguments"]}  # Ollama only takes objects
                    calls.append({"function": {"name": c["function"]["name"], "arguments": args}})
                msg["tool_calls"] = calls
            if role == "tool":
                msg["tool_name"] = names.get(m.get("tool_call_id"), m.get("name", ""))
            out.append(msg)
        return out

    def _generate(self, request: ChatRequest) -> Iterator[Delta]:
        options: dict[str, Any] = {"temperature": request.temperature, "num_predict": request.max_tokens}
        if request.seed is not None:
            options["seed"] = request.seed
        if request.stop:
            options["stop"] = request.stop
        params: dict[str, Any] = dict(model=self.model, messages=self._wire_messages(request), stream=True,
                                      options=options)
        forced = request.tools_active and request.tool_choice != "auto"
        if request.tools_active and not forced:
            params["tools"] = request.tools
        elif forced:
            tools = [t for t in request.tools if not request.forced_tool or t["function"]["name"] == request.forced_tool]
            params["format"] = call_schema(tools)
        elif request.json_schema is not None:
            params["format"] = request.json_schema or "json"
        try:
            yield from self._read(self.client.chat(**params), request, forced)
        except self._ollama.ResponseError as exc:
            kind = BadRequestError if 400 <= exc.status_code < 500 else BackendError
            raise kind(f"{self.host} answered HTTP {exc.status_code}: {exc.error}") from exc
        except (ConnectionError, self._httpx.ConnectError) as exc:
            raise BackendUnavailableError(
                f"cannot reach Ollama at {self.host}: is it running? (`ollama serve`, or `course serve`)"
            ) from exc
        except self._httpx.TimeoutException as exc:
            raise BackendError(f"{self.host} did not answer in time") from exc

    def _read(self, stream, request: ChatRequest, forced: bool) -> Iterator[Delta]:
        text: list[str] = []
        calls: list[ToolCall] = []
        usage = None
        finish = "stop"
        for part in stream:
            msg = part.message
            if msg.content:
                text.append(msg.content)
                yield Delta(tokens=1) if forced else Delta(content=msg.content, tokens=1)
            for tc in msg.tool_calls or ():
                calls.append(ToolCall(f"call_{len(calls) + 1}", tc.function.name, json.dumps(dict(tc.function.arguments))))
            if part.done:
                usage = Usage(part.prompt_eval_count or 0, part.eval_count or 0)
                finish = "length" if part.done_reason == "length" else "stop"
        if forced:
            calls = parse_tool_calls("".join(text), [t["function"]["name"] for t in request.tools])
            if not calls:
                yield Delta(content="".join(text))
        yield Delta(tool_calls=calls, usage=usage, finish_reason="tool_calls" if calls else finish)

    def close(self) -> None:
        self.client._client.close()
