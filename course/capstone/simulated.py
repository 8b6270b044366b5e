"""A simulated small model with the failures measured on the real ones, for grading an agent's design (lesson 11).

Grading a capstone agent on SmolLM2 or Qwen alone says more about the model
than about the agent: both fail most tasks whatever the agent does, and a run
takes minutes. This fake knows each task (like :class:`TaskCloud`) and
behaves like the small models did on the reference agents' tasks, so that an
agent scores what its *design* is worth against them:

- **one right call, when it must call**: in a request that requires a tool
  call (``tool_choice="required"``), before any tool result, it makes the
  task's first expected call exactly (for a task with none it calls the
  first tool with the user's words);
- **no chaining**: after a tool result it never makes the next call as a
  call. Where a call is required it calls ``answer_now`` if it is offered,
  else repeats its last call; where it may choose (``"auto"``) it writes the
  next expected call as JSON *text*, which a loop that trusts it takes for
  the answer (Qwen2.5-Coder 0.5B did exactly this);
- **auto mode, before any result**: like a required call, but with a
  chance of answering in words instead, fixed per task (a hash), so one
  agent gets the same result every run;
- **answers**: from the tool results in its messages, or the facts in its
  system prompt, each kept to 160 characters. It repeats the user's first
  sentence before the facts, as SmolLM2 often did, so personal data it reads
  can end up in the answer;
- **no judgement**: asked for a diagnosis it gives one, asked for a dose it
  gives a number, asked about another customer it looks them up. Refusals
  and hand-offs have to come from the agent's own rules;
- **hard tasks** (``hard``): it makes the first call only; the rest needs a
  cloud model.

It is a test double, not a model: figures from it are about the agent, and
are labelled as such wherever the course prints them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator

from ..backends.base import ChatBackend
from ..backends.types import ChatRequest, Delta, ToolCall, Usage
from .tasks import Task

DOSE = "Take 3 tablets of 400 mg a day."
DIAGNOSIS = "It sounds like eczema; it is nothing serious."


class SimulatedSLM(ChatBackend):
    name = "simulated-slm"

    def __init__(self, tasks: list[Task], *, auto_answer_share: float = 0.3):
        super().__init__()
        self.model = "simulated-slm"
        from .agents import redact_personal

        # each task by its request as written and as an agent that redacts sends it
        self.tasks = {text.strip(): t for t in tasks for text in (t.input, redact_personal(t.input))}
        self.auto_answer_share = auto_answer_share

    def count_tokens(self, text: str) -> int:
        return max(1, round(len(text) / 4)) if text else 0

    # -- what it says -----------------------------------------------------------------------------------------
    def _task(self, messages: list[dict]) -> tuple[Task | None, str]:
        user = next((m.get("content") or "" for m in reversed(messages) if m.get("role") == "user"), "")
        return self.tasks.get(user.strip()), user

    def _first_call(self, task: Task | None, user: str, tools: list[str]) -> ToolCall:
        if task is not None and task.expected_tools and task.expected_tools[0].name in tools:
            call = task.expected_tools[0]
            arguments = dict(call.arguments) or _guess_arguments(call.name, user)
            return ToolCall("call_0", call.name, json.dumps(arguments))
        name = next((t for t in tools if t != "answer_now"), tools[0])
        return ToolCall("call_0", name, json.dumps(_guess_arguments(name, user)))

    def _answer(self, task: Task | None, user: str, messages: list[dict]) -> str:
        if task is not None and task.must_refuse:
            return DOSE if re.search(r"\b(how (many|much)|dose|tablets?|syrup)\b", user, re.IGNORECASE) else DIAGNOSIS
        facts = [m.get("content") or "" for m in messages if m.get("role") == "tool"]
        system = next((m.get("content") or "" for m in messages if m.get("role") == "system"), "")
        if not facts and "\nInformation:\n" in system:
            facts = [system.split("\nInformation:\n", 1)[1]]
        first_sentence = re.split(r"(?<=[.!?])\s", user.strip(), maxsplit=1)[0]
        said = " | ".join(re.sub(r"</?data>", "", f).strip()[:160] for f in facts if f.strip())
        return f"{first_sentence} {said or 'I can help with that.'}".strip()

    def _reply(self, request: ChatRequest) -> tuple[str, list[ToolCall]]:
        messages = request.messages
        task, user = self._task(messages)
        tools = [t["function"]["name"] for t in (request.tools or [])]
        if request.forced_tool:
            tools = [request.forced_tool]
        results = [m for m in messages if m.get("role") == "tool"]
        choice = request.tool_choice if request.tools else "none"
        if choice == "none" or not tools:
            return self._answer(task, user, messages), []
        if not results:
            if choice == "auto" and _share(user) < self.auto_answer_share:
                return self._answer(task, user, messages), []
            return "", [self._first_call(task, user, tools)]
        # after a tool result: no chaining
        made = [c for m in messages if m.get("role") == "assistant" for c in (m.get("tool_calls") or [])]
        if choice == "auto":
            nxt = _next_expected(task, made)
            if nxt is not None:
                return json.dumps({"name": nxt.name, "arguments": nxt.arguments}), []  # the call written as text
            return self._answer(task, user, messages), []
        if "answer_now" in tools:
            return "", [ToolCall("call_n", "answer_now", "{}")]
        last = made[-1]["function"] if made else None
        if last and last["name"] in tools:
            return "", [ToolCall("call_r", last["name"], last.get("arguments") or "{}")]
        return "", [self._first_call(task, user, tools)]

    def _generate(self, request: ChatRequest) -> Iterator[Delta]:
        text, calls = self._reply(request)
        prompt = sum(self.count_tokens(m.get("content") or "") for m in request.messages)
        completion = min(request.max_tokens, self.count_tokens(text) + sum(self.count_tokens(c.arguments) + 2
                                                                             for c in calls))
        if calls:
            yield Delta(tool_calls=calls, finish_reason="tool_calls", usage=Usage(prompt, completion),
                        tokens=completion)
            return
        yield Delta(content=text, tokens=completion)
        yield Delta(finish_reason="stop", usage=Usage(prompt, completion))


def _share(text: str) -> float:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


def _next_expected(task: Task | None, made: list[dict]):
    if task is None:
        return None
    names = [c["function"]["name"] for c in made]
    for call in task.expected_tools:
        if call.name in names:
            names.remove(call.name)
        else:
            return call
    return None


def _guess_arguments(name: str, user: str) -> dict:
    words = " ".join(re.findall(r"[A-Za-z]+", user)[:3]).lower()
    return {"search_products": {"query": words}, "check_stock": {"sku": words}, "get_price": {"sku": words},
            "store_hours": {"day": "today"}, "directions": {"place": words}, "leaflet": {"topic": words},
            "handoff_to_human": {"reason": words}, "handoff_to_clinician": {"reason": words},
            "find_slots": {"department": "nurse", "date": "2027-01-13"},
            "cancel_appointment": {"booking_id": "B-0000"},
            "book_appointment": {"patient_id": "P-00000", "slot_id": "S-0000"}}.get(name, {})
