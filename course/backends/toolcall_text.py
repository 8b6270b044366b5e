"""Tool calls that arrive as text.

Small models often write a tool call into the message text instead of the
structured ``tool_calls`` field: as bare JSON, inside a Markdown code fence, or
between Qwen's ``<tool_call>`` tags. The backends pass such text here; a
recognised call becomes a :class:`ToolCall` whose arguments keep the model's
own JSON text, so a malformed call is reported to the agent, not dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from .types import ToolCall

_TAGGED = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.S)
_FENCED = re.compile(r"```(?:json)?\s*(.*?)\s*```", re.S)


def _candidates(text: str) -> list[str]:
    text = text.strip()
    tagged = _TAGGED.findall(text)
    if tagged:
        return tagged
    fenced = _FENCED.findall(text)
    if fenced:
        return fenced
    return [text] if text.startswith("{") else []


def parse_tool_calls(text: str | None, tool_names: Iterable[str], *, id_prefix: str = "call") -> list[ToolCall]:
    """Tool calls written as text, in order; ``[]`` when the text is an ordinary answer.

    A candidate counts as a call when it is a JSON object with a ``name`` (or a
    ``function``) key. Its ``arguments`` (or ``parameters``) are re-encoded as
    JSON text. A candidate that starts like a call to a known tool but is not
    valid JSON is kept as a call with its raw text as arguments, so the agent
    can tell the model what went wrong.
    """
    if not text:
        return []
    names = set(tool_names)
    calls: list[ToolCall] = []
    for i, raw in enumerate(_candidates(text)):
        call_id = f"{id_prefix}_{i + 1}"
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError:
            match = re.search(r'"name"\s*:\s*"([^"]+)"', raw)
            if match and match.group(1) in names:
                calls.append(ToolCall(call_id, match.group(1), raw))
            continue
        if not isinstance(obj, dict):
            continue
        name = obj.get("name") or obj.get("function")
        if isinstance(name, dict):  # {"function": {"name": ..., "arguments": ...}}
            obj, name = name, name.get("name")
        if not isinstance(name, str):
            continue
        args = obj.get("arguments", obj.get("parameters", {}))
        calls.append(ToolCall(call_id, name, args if isinstance(args, str) else json.dumps(args)))
    return calls


def call_schema(tools: list[dict]) -> dict:
    """JSON schema of one call to any of ``tools``: ``{"name": <tool>, "arguments": {...}}``."""
    options = []
    for spec in tools:
        fn = spec["function"]
        options.append(
            {
                "type": "object",
                "properties": {
                    "name": {"const": fn["name"]},
                    "arguments": fn.get("parameters") or {"type": "object", "properties": {}},
                },
                "required": ["name", "arguments"],
                "additionalProperties": False,
            }
        )
    return options[0] if len(options) == 1 else {"anyOf": options}
