"""The agent loop (lesson 00's reference): model, tools, results, answer, with a trace."""

from .loop import Agent, AgentError, AgentResult, execute_tool_call, format_result, tool_message
from .trace import ModelStep, ToolStep, Trace

__all__ = [
    "Agent",
    "AgentError",
    "AgentResult",
    "ModelStep",
    "ToolStep",
    "Trace",
    "execute_tool_call",
    "format_result",
    "tool_message",
]
