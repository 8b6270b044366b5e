"""Exercises l00.3 and l00.4: the agent loop, and surviving a model's mistakes.

The loop sends the conversation to the model; when the reply asks for tools, it
runs them, appends each result as a ``tool`` message and asks again, until the
model answers in text or ``max_steps`` model calls have been made.
"""

import json
from dataclasses import dataclass, field

from course.backends import ChatBackend, ToolCall
from course.tools import ToolArgumentError


@dataclass
class AgentRun:
    """What ``run_agent`` returns."""

    answer: str | None  # the final text answer, None if the loop hit max_steps
    stop_reason: str  # "answer" or "max_steps"
    model_calls: int  # how many times the model was called
    tool_messages: list = field(default_factory=list)  # every tool message sent back, in order
    messages: list = field(default_factory=list)  # the whole conversation at the end


def execute_tool_call(call: ToolCall, tools: dict) -> dict:
    """Run one tool call and return the ``tool`` message that carries its result.

    The message is ``{"role": "tool", "tool_call_id": call.id, "content": <text>}``.
    ``tools`` maps tool names to :class:`course.tools.Tool` objects. This function
    must never raise because of what the model wrote: an unknown tool, arguments
    that are not valid JSON or do not match the schema, or a tool that raises
    are all reported in ``content`` as text starting with ``"Error:"`` that says
    what went wrong (for an unknown tool, list the available ones), so the model
    can correct itself. A tool's non-string result is sent as JSON text.
    """
    # YOUR CODE HERE: exercise l00.4, Recover from a malformed tool call
    raise NotImplementedError("exercise l00.4: read lessons/l00_getting_started/index.md#when-the-model-gets-it-wrong, then run `course check l00`")


def run_agent(
    backend: ChatBackend,
    tools: list,
    question: str,
    *,
    instructions: str = "You are a helpful assistant. Use the tools when they can answer the question.",
    max_steps: int = 5,
) -> AgentRun:
    """Answer ``question`` with ``backend`` and ``tools``.

    1. Start from ``[system message with instructions, user message with question]``.
    2. Call ``backend.chat(messages, tools=tools, tool_choice=...)``: "auto" normally.
    3. No tool calls in the reply: that reply's content is the answer; stop.
    4. Otherwise append the reply (``response.message()``), then, for every call in
       order, the message from ``execute_tool_call``; go back to 2.
    5. A small model often repeats a call it already made with the same arguments.
       When *every* call in a reply repeats an earlier one, do not run them again
       and do not add that reply to the messages: ask again with
       ``tool_choice="none"`` so the model answers from the results it has.
    6. Never call the model more than ``max_steps`` times; if that runs out, return
       ``answer=None`` and ``stop_reason="max_steps"``.
    """
    # YOUR CODE HERE: exercise l00.3, Implement the agent loop
    raise NotImplementedError("exercise l00.3: read lessons/l00_getting_started/index.md#the-agent-loop, then run `course check l00`")
