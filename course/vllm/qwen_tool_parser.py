"""A vLLM tool parser for small Qwen models that call tools in bare JSON (loaded by vLLM, not by the course).

Qwen2.5's chat template asks for calls between ``<tool_call>`` tags, and
vLLM's ``hermes`` parser reads exactly that. Qwen2.5-Coder-0.5B often writes
the JSON object alone, sometimes in a Markdown code fence:
``{"name": "get_current_time", "arguments": {"timezone": "Asia/Tokyo"}}``.
With ``hermes``, ``tool_choice="auto"`` then returns no call at all.

This parser reads tagged calls as ``hermes`` does, and otherwise accepts a
reply that is (after removing a code fence) exactly one JSON object, or a
list of them, naming a tool the request offered, with object arguments. Any
other reply stays text. ``course vllm serve --tools`` starts vLLM with
``--tool-parser-plugin`` (this file) and ``--tool-call-parser qwen-bare-json``.
Streamed replies are parsed as ``hermes`` parses them: a bare call arrives as
text there.

This file runs inside vLLM's own environment (``course vllm setup``) and
imports vLLM, never the course.
"""

import json
import re

from vllm.entrypoints.generate.base.protocol import ExtractedToolCallInformation, FunctionCall, ToolCall
from vllm.tool_parsers.abstract_tool_parser import ToolParserManager
from vllm.tool_parsers.hermes_tool_parser import Hermes2ProToolParser

FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


def offered_names(request) -> set[str]:
    names = set()
    for tool in getattr(request, "tools", None) or []:
        function = getattr(tool, "function", None)
        name = getattr(function, "name", None) or getattr(tool, "name", None)
        if name:
            names.add(name)
    return names


def bare_calls(text: str, names: set[str]) -> list[dict] | None:
    """The calls a whole reply makes in bare JSON, or None when it is not exactly that."""
    body = text.strip()
    fenced = FENCE.match(body)
    if fenced:
        body = fenced.group(1).strip()
    if not body.startswith(("{", "[")):
        return None
    try:
        value = json.loads(body)
    except ValueError:
        return None
    calls = value if isinstance(value, list) else [value]
    for call in calls:
        if not (isinstance(call, dict) and call.get("name") in names
                and isinstance(call.get("arguments", {}), dict) and set(call) <= {"name", "arguments"}):
            return None
    return calls or None


@ToolParserManager.register_module("qwen-bare-json")
class QwenBareJsonToolParser(Hermes2ProToolParser):
    def extract_tool_calls(self, model_output, request):
        found = super().extract_tool_calls(model_output, request)
        if found.tools_called:
            return found
        calls = bare_calls(model_output, offered_names(request))
        if not calls:
            return found
        return ExtractedToolCallInformation(
            tools_called=True, content=None,
            tool_calls=[ToolCall(type="function", function=FunctionCall(
                name=c["name"], arguments=json.dumps(c.get("arguments", {}), ensure_ascii=False))) for c in calls])
