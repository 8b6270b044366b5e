"""Tool calls that arrive as text, and the course's text protocol for templates without tools.

Small models often write a tool call into the message text instead of the
structured ``tool_calls`` field: as bare JSON, inside a Markdown code fence, or
between Qwen's ``<tool_call>`` tags. The backends pass such text here; a
recognised call becomes a :class:`ToolCall` whose arguments keep the model's
own JSON text, so a malformed call is reported to the agent, not dropped.

A chat template without tools (SmolLM2's plain ChatML) gets them described in
the system message (:data:`TOOL_PREAMBLE`) and answers in a *decision format*,
that of llama.cpp's ``chatml-function-calling``: ``message:`` then text, or
``functions.<name>:`` then that tool's arguments as JSON
(:func:`parse_decision`). :func:`template_messages` puts a conversation in the
shape a template understands. Any runtime may use these (llama.cpp, Foundry
Local).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from .types import ChatRequest, Delta, ToolCall, Usage

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


ANSWER_PREFIX = "message:"
CALL_PREFIX = "functions."


def parse_decision(text: str) -> tuple[str | None, list[ToolCall]]:
    """Split a reply in the decision format into (answer text, tool calls)."""
    stripped = text.lstrip()
    if stripped.startswith(ANSWER_PREFIX):
        return stripped[len(ANSWER_PREFIX):].strip(), []
    calls = []
    for n, match in enumerate(re.finditer(rf"{re.escape(CALL_PREFIX)}([A-Za-z0-9_.-]+):\s*", stripped)):
        end = stripped.find(CALL_PREFIX, match.end())
        args = stripped[match.end(): end if end != -1 else None].strip()
        calls.append(ToolCall(f"call_{n + 1}", match.group(1), args or "{}"))
    return (None if calls else text), calls


TOOL_PREAMBLE = (
    "You have access to the following functions:\n{tools}\n\n"
    "Respond to the user with either a message or a function call.\n"
    "To respond with a message, begin with 'message:'.\n"
    "To call a function, begin with 'functions.<function_name>:' followed by its arguments as JSON.\n"
    "When a function result is given, use it to answer the user."
)


def closing_deltas(text: str, request: ChatRequest, finish: str, usage: Usage) -> Iterator[Delta]:
    """The last deltas of a reply whose tool calls come as text (the runtime has no native tool calls).

    With tools offered, the whole text is parsed once complete: the calls it
    makes end the reply (``tool_calls``), or else its answer is sent as content
    (the text was held back while it streamed). Then the finish and the usage.
    """
    if request.tools_active:
        answer, calls = parse_decision(text)
        if calls:
            yield Delta(tool_calls=calls, finish_reason="tool_calls", usage=usage)
            return
        yield Delta(content=answer or "")
    yield Delta(finish_reason=finish, usage=usage)


def describe_tools(tools: list[dict]) -> str:
    lines = []
    for spec in tools:
        fn = spec["function"]
        params = json.dumps(fn.get("parameters", {}).get("properties", {}))
        lines.append(f"- {fn['name']}: {fn.get('description', '').strip()} Arguments: {params}")
    return "\n".join(lines)


def _arguments_object(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def template_messages(request: ChatRequest, *, native_tools: bool) -> list[dict]:
    """Messages in the shape a chat template understands: tool calls and results in the template's own
    fields (``native_tools``) or, for a template without tools, as text under the course's tool preamble
    (``functions.NAME:`` calls, results as user messages). The Foundry Local backend uses the text form."""
    names = {}
    out: list[dict] = []
    for m in request.messages:
        role = "system" if m["role"] == "developer" else m["role"]
        if role == "assistant" and m.get("tool_calls"):
            calls = [c["function"] for c in m["tool_calls"]]
            for c in m["tool_calls"]:
                names[c.get("id")] = c["function"]["name"]
            if native_tools:
                out.append({"role": "assistant", "content": m.get("content") or "", "tool_calls": [
                    {"type": "function", "function": {"name": c["name"], "arguments": _arguments_object(c["arguments"])}}
                    for c in calls
                ]})
            else:
                text = "\n".join(f"{CALL_PREFIX}{c['name']}:\n{c['arguments']}" for c in calls)
                out.append({"role": "assistant", "content": text})
        elif role == "tool":
            if native_tools:
                out.append({"role": "tool", "content": m["content"] or ""})
            else:
                tool = names.get(m.get("tool_call_id"), m.get("name", "the tool"))
                out.append({"role": "user", "content": f"Result of {tool}: {m['content']}"})
        else:
            out.append({"role": role, "content": m.get("content") or ""})
    if request.tools_active and not native_tools:
        preamble = TOOL_PREAMBLE.format(tools=describe_tools(request.tools))
        if out and out[0]["role"] == "system":
            out[0] = {"role": "system", "content": out[0]["content"] + "\n\n" + preamble}
        else:
            out.insert(0, {"role": "system", "content": preamble})
    return out
