"""Any OpenAI-compatible chat endpoint, through the official ``openai`` client.

llama.cpp's server, Foundry Local, vLLM, Ollama's ``/v1`` and ``course serve``
all speak this protocol; only ``base_url`` and ``model`` change.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .base import ChatBackend
from .toolcall_text import parse_tool_calls
from .types import (
    BackendError,
    BackendTimeoutError,
    BackendUnavailableError,
    BadRequestError,
    ChatRequest,
    Delta,
    ToolCall,
    Usage,
)


class OpenAICompatBackend(ChatBackend):
    """Chat completions over HTTP. ``api_key`` may be any string for local servers."""

    name = "openai"
    native_stop = True  # the server ends the reply at the stop sequences

    def __init__(self, base_url: str, model: str, *, api_key: str = "not-needed", timeout: float = 120.0,
                 max_retries: int = 0, json_object_schema: bool = False, clock=None):
        """``json_object_schema``: send a JSON schema as ``{"type": "json_object", "schema": ...}``,
        the only form llama-cpp-python's server (0.3.x) honours, instead of OpenAI's ``json_schema``."""
        super().__init__(clock=clock)
        try:
            import openai
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise BackendUnavailableError("the openai client is not installed: pip install openai") from exc
        self._openai = openai
        self.base_url = base_url
        self.model = model
        self.json_object_schema = json_object_schema
        from ..observability import traced_http_client

        # the trace context travels with every request: course serve's spans join the caller's trace
        self.client = openai.OpenAI(base_url=base_url, api_key=api_key, timeout=timeout, max_retries=max_retries,
                                    http_client=traced_http_client(timeout=timeout))

    def _wire_messages(self, request: ChatRequest) -> list[dict]:
        # Some servers reject an assistant message that has tool_calls and no content key.
        return [
            {**m, "content": m.get("content") or ""} if m["role"] == "assistant" else m
            for m in request.messages
        ]

    def _generate(self, request: ChatRequest) -> Iterator[Delta]:
        params: dict[str, Any] = dict(
            model=self.model,
            messages=self._wire_messages(request),
            temperature=request.temperature,
            max_tokens=request.max_tokens,
            stream=True,
            stream_options={"include_usage": True},
        )
        if request.tools:
            params["tools"] = request.tools
            params["tool_choice"] = request.tool_choice
        if request.response_format:
            params["response_format"] = request.response_format
            if self.json_object_schema and request.json_schema is not None:
                params["response_format"] = {"type": "json_object", "schema": request.json_schema}
        if request.seed is not None:
            params["seed"] = request.seed
        if request.stop:
            params["stop"] = request.stop
        try:
            stream = self.client.chat.completions.create(**params)
            yield from self._read(stream, request)
        except self._openai.APITimeoutError as exc:
            raise BackendTimeoutError(f"{self.base_url} did not answer in time: {exc}") from exc
        except self._openai.APIConnectionError as exc:
            raise BackendUnavailableError(
                f"cannot reach {self.base_url}: is the server running? (start one with `course serve`)"
            ) from exc
        except self._openai.APIStatusError as exc:
            kind = BadRequestError if 400 <= exc.status_code < 500 else BackendError
            raise kind(f"{self.base_url} answered HTTP {exc.status_code}: {exc.message}") from exc

    def _read(self, stream, request: ChatRequest) -> Iterator[Delta]:
        partial: dict[int, dict] = {}
        text: list[str] = []
        usage = None
        finish = None
        for chunk in stream:
            if chunk.usage is not None:
                usage = Usage(chunk.usage.prompt_tokens or 0, chunk.usage.completion_tokens or 0)
            for choice in chunk.choices or ():
                delta = choice.delta
                if delta is not None and delta.content:
                    text.append(delta.content)
                    yield Delta(content=delta.content, tokens=1)
                for tc in (delta.tool_calls or []) if delta is not None else []:
                    slot = partial.setdefault(tc.index, {"id": None, "name": "", "arguments": ""})
                    slot["id"] = tc.id or slot["id"]
                    if tc.function is not None:
                        name = tc.function.name or ""
                        if name and name != slot["name"]:  # some servers repeat the name in every delta
                            slot["name"] += name
                        slot["arguments"] += tc.function.arguments or ""
                    yield Delta(tokens=1)
                finish = choice.finish_reason or finish
        calls = [ToolCall(s["id"] or f"call_{i + 1}", s["name"], s["arguments"]) for i, s in sorted(partial.items())]
        if not calls and request.tools_active:
            # Small models behind some servers write the call into the text instead.
            calls = parse_tool_calls("".join(text), [t["function"]["name"] for t in request.tools])
        yield Delta(tool_calls=calls, usage=usage,
                    finish_reason="tool_calls" if calls else ("length" if finish == "length" else "stop"))

    def close(self) -> None:
        self.client.close()
