"""The two ways a tool can go wrong before its code even runs.

* :class:`ToolSchemaError` is *your* mistake, found when the tool is defined:
  a parameter without a type hint, a type JSON cannot express, a missing
  docstring. It is raised at import time, long before a model is involved.
* :class:`ToolArgumentError` is the *model's* mistake, found when it calls the
  tool: a wrong type, a missing or an unknown argument, text that is not JSON.
  Its message is written for the model, so the agent loop can send it back
  verbatim and let the model correct its call.

Both derive from :class:`ToolError`, so ``except ToolError`` catches either.
They also derive from the built-in exception a Python programmer would expect
(``TypeError`` for a bad definition, ``ValueError`` for bad values).
"""

from __future__ import annotations

__all__ = ["ToolError", "ToolSchemaError", "ToolArgumentError"]


class ToolError(Exception):
    """Base class of every error raised by :mod:`course.tools`."""


class ToolSchemaError(ToolError, TypeError):
    """A Python function cannot be turned into a tool (raised at definition time).

    The message says what is wrong and what to change, e.g. which parameter
    lacks a type hint and which types are supported.
    """


class ToolArgumentError(ToolError, ValueError):
    """The arguments a model sent for a tool call are not acceptable.

    Every problem found is listed, not only the first one: a model that
    learns about all of its mistakes at once needs fewer retries.

    Attributes:
        tool_name: The name of the tool that was called.
        problems: One short sentence per problem, e.g.
            ``"missing required argument 'city'"``.
        expected: A one-line summary of the arguments the tool accepts
            (may be empty), appended to the message as a reminder.
    """

    def __init__(self, tool_name: str, problems: list[str], *, expected: str = "") -> None:
        self.tool_name = tool_name
        self.problems = list(problems)
        self.expected = expected
        message = f"{tool_name}: " + "; ".join(self.problems)
        if expected:
            message += f". Expected arguments: {expected}"
        super().__init__(message)
