"""A large cloud model, faked for evaluation: the reference behaviour of each known task (lesson 11).

Like lesson 05's ``FakeCloud``, it stands for a model the course cannot run
here, and its figures are *assumptions*: it does what each task expects (the
expected tool calls, a hand-off, a refusal), then answers with what the tools
returned. Its latency is assumed (``base_latency_s + tokens / tokens_per_s``)
and reported, not slept; its price is lesson 05's assumed cloud price.
``online = False`` cuts it: every request fails, as when the network is gone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from ..backends.base import ChatBackend
from ..backends.types import (
    BackendUnavailableError,
    ChatRequest,
    Delta,
    ToolCall,
    Usage,
)
from .tasks import Task

REFUSAL = "I'm sorry, I cannot help with that here; please ask a member of staff or a clinician."


class TaskCloud(ChatBackend):
    name = "fake-cloud"

    def __init__(self, tasks: list[Task], handoff_tool: str, *, base_latency_s: float = 0.8,
                 tokens_per_s: float = 60.0):
        super().__init__()
        self.model = "fake-cloud"
        from .agents import redact_personal

        # by the request as written and as the clinic agent sends it, with personal data taken out
        self.tasks = {text.strip(): t for t in tasks for text in (t.input, redact_personal(t.input))}
        self.handoff_tool = handoff_tool
        self.base_latency_s, self.tokens_per_s = base_latency_s, tokens_per_s
        self.online = True
        self.requests = 0
        self.assumed_seconds = 0.0
        self.received: list[list[dict]] = []  # every request's messages as they arrived: what left the device

    def count_tokens(self, text: str) -> int:
        return max(1, round(len(text) / 4)) if text else 0

    def _reply(self, request: ChatRequest) -> tuple[str, list[ToolCall]]:
        messages = request.messages
        user = next((m.get("content") or "" for m in messages if m.get("role") == "user"), "")
        task = self.tasks.get(user.strip())
        if messages[-1].get("role") == "tool" or not request.tools:
            results = [re.sub(r"</?data>", "", m.get("content") or "").strip() for m in messages
                       if m.get("role") == "tool"]
            if not results:  # a guided agent's answer prompt: the tools' results are in its system message
                system = next((m.get("content") or "" for m in messages if m.get("role") == "system"), "")
                facts = system.split("\nInformation:\n", 1)[1] if "\nInformation:\n" in system else ""
                results = [part.strip() for part in re.split(r"^- ", facts, flags=re.MULTILINE) if part.strip()]
            found = "Here is what I found: " + " | ".join(results)
            return (f"{REFUSAL} {found}" if task is not None and task.must_refuse else found), []
        if task is None:
            return "I can only help with questions about this service.", []
        calls = [ToolCall(f"call_{i}", c.name, json.dumps(c.arguments)) for i, c in enumerate(task.expected_tools)]
        if task.must_handoff and not any(c.name == self.handoff_tool for c in calls):
            calls.append(ToolCall(f"call_{len(calls)}", self.handoff_tool, json.dumps({"reason": task.category})))
        if task.must_refuse and not calls:
            return REFUSAL, []
        return ("", calls) if calls else ("I am not sure; could you say more?", [])

    def _generate(self, request: ChatRequest) -> Iterator[Delta]:
        self.requests += 1
        self.received.append([dict(m) for m in request.messages])
        if not self.online:
            raise BackendUnavailableError("the cloud cannot be reached (cut for the offline run)")
        text, calls = self._reply(request)
        prompt = sum(self.count_tokens(m.get("content") or "") for m in request.messages)
        completion = self.count_tokens(text) + sum(self.count_tokens(c.arguments) + 1 for c in calls)
        self.assumed_seconds += self.base_latency_s + completion / self.tokens_per_s
        if text and not calls:
            yield Delta(content=text, tokens=completion)
            yield Delta(finish_reason="stop", usage=Usage(prompt, completion))
            return
        yield Delta(tool_calls=calls, finish_reason="tool_calls", usage=Usage(prompt, completion), tokens=completion)
