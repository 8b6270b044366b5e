"""The agent loop: the reference implementation of lesson 00.

An agent is a loop around a model::

    messages = [system, user]
    repeat at most max_steps times:
        reply = model(messages, tools)
        if the reply has no tool calls: it is the answer, stop
        for each tool call: run it, append the result as a "tool" message

Three things make the loop safe with a small model:

- **Nothing the model writes can crash it.** An unknown tool, arguments that are
  not JSON or have the wrong types, or a tool that raises: each becomes a tool
  result that tells the model what went wrong, so it can correct itself.
- **It always ends.** ``max_steps`` bounds the number of model calls.
- **It does not repeat itself.** Tiny models often call the same tool again after
  getting its result; the loop answers a repeated call from what it already has
  and asks the model for the final answer with tools switched off.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import trace as otel_trace

from ..backends.base import ChatBackend
from ..backends.types import BackendError, ToolCall
from ..tools import Tool, ToolArgumentError
from .trace import ModelStep, ToolStep, Trace

DEFAULT_INSTRUCTIONS = "You are a helpful assistant. Use the tools when they can answer the question."
_tracer = otel_trace.get_tracer("course.agent")


class AgentError(Exception):
    """The agent could not finish because the backend failed; ``trace`` keeps what happened."""

    def __init__(self, message: str, trace: Trace):
        super().__init__(message)
        self.trace = trace


@dataclass
class AgentResult:
    """What a run produced: the answer (None when it stopped early), why it stopped, the trace."""

    answer: str | None
    stop_reason: str  # "answer" | "max_steps" | "over_budget" (lesson 10's guard)
    trace: Trace
    messages: list[dict] = field(default_factory=list)
    error: str | None = None  # why it stopped early, when something ran out

    @property
    def tool_results(self) -> list[str]:
        return [step.content for step in self.trace.tool_steps if step.ok]


def format_result(value: Any) -> str:
    """A tool's return value as the text the model reads."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError):
        return str(value)


def execute_tool_call(call: ToolCall, tools: dict[str, Tool]) -> ToolStep:
    """Run one call; every mistake becomes an error result the model can read, never an exception."""
    start = time.perf_counter()
    tool = tools.get(call.name)
    if tool is None:
        error = f"unknown tool '{call.name}'. Available tools: {', '.join(sorted(tools)) or 'none'}."
        return ToolStep(call, f"Error: {error}", ok=False, error="unknown_tool")
    try:
        value = tool.invoke(call.arguments)
    except ToolArgumentError as exc:
        return ToolStep(call, f"Error: {exc}", ok=False, error="bad_arguments",
                        seconds=time.perf_counter() - start)
    except Exception as exc:  # the tool itself failed: report it, keep the loop alive
        return ToolStep(call, f"Error: tool '{call.name}' raised {type(exc).__name__}: {exc}", ok=False,
                        error="tool_exception", seconds=time.perf_counter() - start)
    return ToolStep(call, format_result(value), ok=True, seconds=time.perf_counter() - start)


def tool_message(step: ToolStep) -> dict:
    """The ``tool`` message that carries a result back to the model."""
    return {"role": "tool", "tool_call_id": step.call.id, "name": step.call.name, "content": step.content}


class Agent:
    """A model, instructions and tools, run by :meth:`run`."""

    def __init__(
        self,
        backend: ChatBackend,
        tools: Sequence[Tool] = (),
        *,
        instructions: str = DEFAULT_INSTRUCTIONS,
        max_steps: int = 5,
        max_tokens: int = 128,
        temperature: float = 0.0,
        seed: int | None = None,
        answer_after: int | None = None,
    ):
        """``answer_after``: after this many rounds of tool calls, the model is asked for its answer with tools
        off (a small model otherwise often calls tools again and again until ``max_steps`` runs out)."""
        if max_steps < 1:
            raise ValueError("max_steps must be at least 1")
        if answer_after is not None and answer_after < 1:
            raise ValueError("answer_after must be at least 1 (or None: no limit)")
        self.answer_after = answer_after
        self.backend = backend
        self.tools = {t.name: t for t in tools}
        if len(self.tools) != len(tools):
            raise ValueError("two tools share a name; tool names must be unique")
        self.instructions = instructions
        self.max_steps = max_steps
        self.options = {"max_tokens": max_tokens, "temperature": temperature, "seed": seed}

    def run(self, user_message: str, *, history: Sequence[dict] = ()) -> AgentResult:
        """Answer ``user_message``; ``history`` holds earlier turns of the conversation.

        With an OpenTelemetry SDK configured (lesson 10), the run is a span ``invoke_agent``, each model call a
        child ``chat <model>`` and each tool call a child ``execute_tool <name>``; without one they cost nothing.
        """
        with _tracer.start_as_current_span("invoke_agent", attributes={
                "gen_ai.operation.name": "invoke_agent", "course.agent.tools": sorted(self.tools)}) as span:
            result = self._run(user_message, history)
            span.set_attribute("course.agent.stop_reason", result.stop_reason)
            span.set_attribute("course.agent.steps", len(result.trace.steps))
            return result

    def _chat(self, messages: list[dict], tool_choice: str):
        model = getattr(self.backend, "model", None) or self.backend.name
        with _tracer.start_as_current_span(f"chat {model}", kind=otel_trace.SpanKind.CLIENT, attributes={
                "gen_ai.operation.name": "chat", "gen_ai.request.model": str(model)}) as span:
            response = self.backend.chat(
                messages, tools=list(self.tools.values()) or None,
                tool_choice=tool_choice if self.tools else None, **self.options,
            )
            span.set_attribute("gen_ai.usage.input_tokens", response.usage.prompt_tokens)
            span.set_attribute("gen_ai.usage.output_tokens", response.usage.completion_tokens)
            span.set_attribute("gen_ai.response.finish_reasons", [str(response.finish_reason)])
            if response.timings.ttft_s is not None:
                span.set_attribute("course.ttft_s", response.timings.ttft_s)
            return response

    def _run(self, user_message: str, history: Sequence[dict]) -> AgentResult:
        messages: list[dict] = [{"role": "system", "content": self.instructions}, *history,
                                {"role": "user", "content": user_message}]
        trace = Trace()
        answered: dict[tuple[str, str], ToolStep] = {}
        tool_choice = "auto"
        rounds = 0  # rounds of tool calls run
        for _ in range(self.max_steps):
            try:
                response = self._chat(messages, tool_choice)
            except BackendError as exc:
                raise AgentError(f"the model backend failed after {len(trace.steps)} steps: {exc}", trace) from exc
            trace.add(ModelStep(response))
            if not response.tool_calls:
                messages.append(response.message())
                return AgentResult(response.content or "", "answer", trace, messages)
            keys = [(call.name, _canonical(call.arguments)) for call in response.tool_calls]
            if all(key in answered for key in keys):
                # Every call repeats one already answered: a small model stuck in a loop.
                # Leave the repeat out of the history and ask for the answer with tools off.
                for call, key in zip(response.tool_calls, keys):
                    trace.add(ToolStep(call, answered[key].content, ok=True, error="repeated_call"))
                tool_choice = "none"
                continue
            messages.append(response.message())
            for call, key in zip(response.tool_calls, keys):
                step = answered.get(key) or _traced_tool_call(call, self.tools)
                if step.ok:
                    answered[key] = step
                trace.add(step)
                messages.append(tool_message(step) | {"tool_call_id": call.id})
            rounds += 1
            if self.answer_after is not None and rounds >= self.answer_after:
                tool_choice = "none"
        return AgentResult(None, "max_steps", trace, messages)


def _traced_tool_call(call, tools) -> ToolStep:
    with _tracer.start_as_current_span(f"execute_tool {call.name}", attributes={
            "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": call.name,
            "gen_ai.tool.call.id": call.id or ""}) as span:
        step = execute_tool_call(call, tools)
        span.set_attribute("course.tool.outcome", "ok" if step.ok else (step.error or "error"))
        if not step.ok:
            span.set_status(otel_trace.Status(otel_trace.StatusCode.ERROR, step.error or "error"))
        return step


def _canonical(arguments: str) -> str:
    try:
        return json.dumps(json.loads(arguments), sort_keys=True)
    except (json.JSONDecodeError, TypeError):
        return arguments
