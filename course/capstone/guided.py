"""An agent loop shaped for small models: calls constrained by a grammar, then an answer from a fresh prompt.

Lesson 00's loop lets the model choose between calling a tool and answering
(``tool_choice="auto"``). Measured on the kiosk's tasks, the small models
choose badly: Qwen2.5-Coder 0.5B made the right first call, then wrote its next
calls as text, which the loop took for the answer (1 task in 10 solved).
:class:`GuidedAgent` takes that choice away from the model:

0. **A rule decides first** (``triage``, optional): a request the agent
   must refuse or hand to a person gets a fixed reply, and a hand-off call,
   without the model (:mod:`course.capstone.triage`).
1. **The first round must call a tool** (``tool_choice="required"``: the
   backend constrains the reply to a JSON call of one of the tools, lesson 00's
   grammar path), since every task of a kiosk or a front desk needs one: a
   lookup, a booking or a hand-off.
2. **A later round only after an error** (at most ``max_rounds`` in all): a
   call that failed (a name where a SKU belongs, a slot that is not free) gets
   one more round, where the model reads the error and tries again; it must
   call a tool again, or ``answer_now`` when it has what it needs. Calls made
   already are not run again. After calls that worked the agent goes on to
   the answer: given another forced round, the small models measured here
   add a call nobody asked for (a leaflet on blood tests, for a question
   about free slots) far more often than one that was missing. Tools that act (book,
   cancel: ``first_round_only``) are offered in the first round only, where
   the request itself asks for the act; forced to call something later, a
   small model otherwise books a slot nobody asked for. (``answer_now`` is not
   offered in the first round: Qwen2.5-Coder 0.5B chose it there for questions only
   a leaflet answers, and then made up a phone number.)
3. **Follow-ups in code**: a ``follow_up`` function may add the calls that
   plainly follow from a result (the stock of the product a search found,
   when the question is about stock), so the chain does not hang on the
   model's weakest skill. What it adds is run like the model's calls and
   shows in the trace as the agent's own (``kind="follow_up"``).
4. **The answer** comes from a fresh prompt without tools: the answering
   instructions with what the tools returned, then the user's question. A
   small model answers a short prompt of facts far better than the end of a
   long tool conversation.

A backend that answers in text although a call was required (a real cloud
model may) is taken at its word: that text is the answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from opentelemetry import trace as otel_trace

from ..agent import (
    Agent,
    AgentError,
    AgentResult,
    ModelStep,
    ToolStep,
    Trace,
    execute_tool_call,
    tool_message,
)
from ..backends.types import BackendError, ToolCall
from ..tools import Tool, tool

ANSWER_NOW = "answer_now"
ANSWER_INSTRUCTIONS = (
    "You answer the user in one or two short sentences, using only the information below. Give names, numbers, "
    "prices, times and ids exactly as written there.")
_tracer = otel_trace.get_tracer("course.capstone")
# (the user's message, the successful steps so far) -> the calls that follow, as (tool name, arguments)
FollowUp = Callable[[str, list[ToolStep]], list[tuple[str, dict]]]


@tool(name=ANSWER_NOW)
def _answer_now() -> str:
    """Call this when the tool results so far are enough to answer the user."""
    return "ok"


class GuidedAgent(Agent):
    """Lesson 00's agent with the model's choices constrained: see the module's description."""

    def __init__(self, backend, tools: Sequence[Tool] = (), *, instructions: str, max_rounds: int = 3,
                 answer_instructions: str = ANSWER_INSTRUCTIONS, max_tokens: int = 96,
                 follow_up: FollowUp | None = None, first_round_only: Sequence[str] = (),
                 triage: Callable[[str], tuple[str, str]] | None = None, handoff_tool: str | None = None,
                 replies: dict[str, str] | None = None, handoff_on_refusal: bool = False, **options):
        """``triage(request) -> (action, reason)``: ``"handoff"`` calls ``handoff_tool`` with the reason and
        replies ``replies["handoff"]``; ``"refuse"`` replies ``replies["refuse"]`` (and hands off too with
        ``handoff_on_refusal``); ``"answer"`` goes on to the model."""
        if max_rounds < 1:
            raise ValueError("max_rounds must be at least 1: the first round calls a tool")
        if not tools:
            raise ValueError("a guided agent needs at least one tool: its first round must call one")
        if any(t.name == ANSWER_NOW for t in tools):
            raise ValueError(f"{ANSWER_NOW!r} is the guided agent's own tool; give yours another name")
        super().__init__(backend, tools, instructions=instructions, max_steps=max_rounds + 1,
                         max_tokens=max_tokens, **options)
        self.max_rounds = max_rounds
        self.answer_instructions = answer_instructions
        self.follow_up = follow_up
        unknown = set(first_round_only) - set(self.tools)
        if unknown:
            raise ValueError(f"first_round_only names tools the agent does not have: {', '.join(sorted(unknown))}")
        self.first_round_only = frozenset(first_round_only)
        if triage is not None:
            if handoff_tool not in self.tools:
                raise ValueError(f"triage needs handoff_tool, one of the agent's tools; got {handoff_tool!r}")
            if not replies or not {"handoff", "refuse"} <= set(replies):
                raise ValueError('triage needs replies for "handoff" and "refuse"')
        self.triage, self.handoff_tool = triage, handoff_tool
        self.replies, self.handoff_on_refusal = dict(replies or {}), handoff_on_refusal

    def _model(self, messages: list[dict], tools: list[Tool] | None, trace: Trace):
        model = getattr(self.backend, "model", None) or self.backend.name
        with _tracer.start_as_current_span(f"chat {model}", kind=otel_trace.SpanKind.CLIENT, attributes={
                "gen_ai.operation.name": "chat", "gen_ai.request.model": str(model)}) as span:
            try:
                response = self.backend.chat(messages, tools=tools, tool_choice="required" if tools else None,
                                             **self.options)
            except BackendError as exc:
                raise AgentError(f"the model backend failed after {len(trace.steps)} steps: {exc}", trace) from exc
            span.set_attribute("gen_ai.usage.input_tokens", response.usage.prompt_tokens)
            span.set_attribute("gen_ai.usage.output_tokens", response.usage.completion_tokens)
        trace.add(ModelStep(response))
        return response

    def _run(self, user_message: str, history: Sequence[dict]) -> AgentResult:
        messages: list[dict] = [{"role": "system", "content": self.instructions}, *history,
                                {"role": "user", "content": user_message}]
        trace = Trace()
        if self.triage is not None:
            action, reason = self.triage(user_message)
            if action in ("handoff", "refuse"):
                if action == "handoff" or self.handoff_on_refusal:
                    call = ToolCall("triage_0", self.handoff_tool, json.dumps({"reason": reason}))
                    step = execute_tool_call(call, self.tools)
                    step.kind = "triage"
                    trace.add(step)
                reply = self.replies[action]
                messages.append({"role": "assistant", "content": reply})
                return AgentResult(reply, "answer", trace, messages)
        done: dict[tuple[str, str], ToolStep] = {}
        first = list(self.tools.values())
        later = [t for t in first if t.name not in self.first_round_only] + [_answer_now]
        for round_ in range(self.max_rounds):
            response = self._model(messages, first if round_ == 0 else later, trace)
            if not response.tool_calls:  # a backend that answered in text although a call was required
                messages.append(response.message())
                return AgentResult(response.content or "", "answer", trace, messages)
            calls = [c for c in response.tool_calls if c.name != ANSWER_NOW]
            new = [c for c in calls if (c.name, _canonical(c.arguments)) not in done]
            if not new:
                break
            messages.append(response.message())
            for call in calls:
                key = (call.name, _canonical(call.arguments))
                step = done.get(key) or execute_tool_call(call, self.tools)
                if key not in done:
                    trace.add(step)
                    done[key] = step
                messages.append(tool_message(step) | {"tool_call_id": call.id})
            if len(calls) < len(response.tool_calls):  # it called answer_now beside its calls
                break
            if all(done[(c.name, _canonical(c.arguments))].ok for c in new):
                break  # every new call worked: answer
        self._follow_ups(user_message, done, trace)
        return self._answer(user_message, history, list(done.values()), trace, messages)

    def _follow_ups(self, user_message: str, done: dict, trace: Trace) -> None:
        """Run the calls ``follow_up`` derives from the results so far, until it adds nothing new."""
        for _ in range(self.max_rounds):
            if self.follow_up is None:
                return
            wanted = [(name, json.dumps(args, sort_keys=True))
                      for name, args in self.follow_up(user_message, [s for s in done.values() if s.ok])]
            new = [(n, a) for n, a in wanted if (n, a) not in done and n in self.tools]
            if not new:
                return
            for i, (name, arguments) in enumerate(new):
                step = execute_tool_call(ToolCall(f"follow_up_{len(done)}_{i}", name, arguments), self.tools)
                step.kind = "follow_up"
                trace.add(step)
                done[(name, arguments)] = step

    def _answer(self, user_message: str, history: Sequence[dict], steps: list[ToolStep], trace: Trace,
                messages: list[dict]) -> AgentResult:
        facts = "\n".join(f"- {s.content if s.ok else 'error: ' + s.content}" for s in steps) or "- (nothing)"
        prompt = [{"role": "system", "content": f"{self.answer_instructions}\n\nInformation:\n{facts}"},
                  *history, {"role": "user", "content": user_message}]
        response = self._model(prompt, None, trace)
        messages.append(response.message())
        return AgentResult(response.content or "", "answer", trace, messages)


def _canonical(arguments: str) -> str:
    try:
        return json.dumps(json.loads(arguments), sort_keys=True)
    except (json.JSONDecodeError, TypeError):
        return arguments or ""
