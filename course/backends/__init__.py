"""One chat interface, several backends, chosen by name (:mod:`course.backends.registry`).

- :class:`LlamaCppBackend`: a registry model in this process (llama-cpp-python);
- :class:`OpenAICompatBackend`: any OpenAI-compatible endpoint (llama.cpp's server,
  Foundry Local, vLLM, Ollama's ``/v1``, ``course serve``);
- :class:`OllamaBackend`: Ollama's native API;
- :class:`ScriptedBackend`: a scripted fake that injects faults, for tests.

Every backend offers ``chat(messages, ...)`` and ``stream(messages, ...)`` with the
same arguments (tools, tool_choice, response_format, temperature, seed, max_tokens)
and reports :class:`Usage` and :class:`Timings`.
"""

from .base import ChatBackend, ChatStream
from .registry import BACKENDS, backend_class, make_backend
from .fake import (
    CallTool,
    CallTools,
    Delay,
    Endless,
    FakeClock,
    Raise,
    Reply,
    ScriptedBackend,
    ScriptExhaustedError,
    malformed_tool_call,
    unknown_tool_call,
    wrong_types_call,
)
from .types import (
    BackendError,
    BackendTimeoutError,
    BackendUnavailableError,
    BadRequestError,
    ChatChunk,
    ChatRequest,
    ChatResponse,
    Timings,
    ToolCall,
    Usage,
    json_schema_format,
)


_LAZY = {"LlamaCppBackend": "llama.cpp", "OpenAICompatBackend": "openai", "OllamaBackend": "ollama"}


def __getattr__(name: str):
    # The real backends import heavy clients; load them only when asked for, through the registry.
    if name in _LAZY:
        return backend_class(_LAZY[name])
    raise AttributeError(name)


__all__ = [
    "BACKENDS",
    "backend_class",
    "make_backend",
    "BackendError",
    "BackendTimeoutError",
    "BackendUnavailableError",
    "BadRequestError",
    "CallTool",
    "CallTools",
    "ChatBackend",
    "ChatChunk",
    "ChatRequest",
    "ChatResponse",
    "ChatStream",
    "Delay",
    "Endless",
    "FakeClock",
    "LlamaCppBackend",
    "OllamaBackend",
    "OpenAICompatBackend",
    "Raise",
    "Reply",
    "ScriptExhaustedError",
    "ScriptedBackend",
    "Timings",
    "ToolCall",
    "Usage",
    "json_schema_format",
    "malformed_tool_call",
    "unknown_tool_call",
    "wrong_types_call",
]
