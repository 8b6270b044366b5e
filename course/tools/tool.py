"""The :class:`Tool` class and the ``@tool`` decorator.

A tool is a plain Python function plus what a model needs to call it: a
name, a description and a JSON Schema for the arguments. Decorating the
function builds all three (see :func:`course.tools.function_schema`)::

    @tool
    def get_current_time(timezone: str = "UTC") -> str:
        \"\"\"Return the current time in a timezone.

        Args:
            timezone: IANA timezone name, e.g. "Europe/Paris".
        \"\"\"
        ...

    get_current_time.spec()        # what goes into the request's "tools" list
    get_current_time("Asia/Tokyo") # still callable like the function
    get_current_time.invoke('{"timezone": "Asia/Tokyo"}')  # what the agent loop does

``invoke`` is the bridge from a model's tool call to Python: it parses the
JSON text the model produced, validates it, fills in defaults, converts
Enum values to members and calls the function. Anything wrong with the
arguments raises :class:`ToolArgumentError`, whose message the agent loop
sends back to the model. Exceptions raised *by the function itself* pass
through unchanged: they are the tool's own failures, not the model's.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable
from typing import Any, overload

from .conversion import from_json
from .errors import ToolArgumentError
from .schema import function_schema, parameter_types
from .validation import describe_parameters, validate_arguments

__all__ = ["Tool", "tool"]

_MAX_QUOTED = 80  # characters of malformed JSON quoted back to the model


def _reject_constant(name: str) -> None:
    # Python's json module accepts NaN and Infinity; JSON itself does not.
    raise ValueError(f"{name} is not valid JSON")


class Tool:
    """A Python function that a model can call.

    Attributes:
        name: The tool name the model uses in its calls.
        description: What the tool does, for the model.
        parameters: The JSON Schema of the arguments.
        func: The decorated function, unchanged.
    """

    name: str
    description: str
    parameters: dict[str, Any]
    func: Callable[..., Any]

    def __init__(
        self,
        func: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
    ) -> None:
        schema = function_schema(func, name=name, description=description)
        # First, so that help(), __doc__ and inspect.signature() see the
        # function; our own attributes are set after so they win.
        functools.update_wrapper(self, func)
        self.func = func
        self.name = schema["name"]
        self.description = schema["description"]
        self.parameters = schema["parameters"]
        self._types = parameter_types(func)

    def __repr__(self) -> str:
        return f"<Tool {self.name}({', '.join(self.parameters['properties'])})>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the function directly, exactly as if it were not decorated."""
        return self.func(*args, **kwargs)

    def spec(self) -> dict[str, Any]:
        """The tool in the OpenAI ``tools`` format used by chat-completion APIs.

        Returns a fresh copy each time, so callers may modify it freely.
        """
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": copy.deepcopy(self.parameters),
            },
        }

    def validate(self, arguments: object) -> dict[str, Any]:
        """Check a model's arguments and make them ready for the function.

        Returns the keyword arguments with defaults filled in, integral
        floats turned into ints where an integer is expected and Enum values
        turned back into Enum members. Raises :class:`ToolArgumentError`
        listing every problem.
        """
        valid = validate_arguments(self.parameters, arguments, tool_name=self.name)
        return {key: from_json(self._types[key], value) for key, value in valid.items()}

    def invoke(self, arguments: dict[str, Any] | str) -> Any:
        """Run the tool on the arguments of a model's tool call.

        Args:
            arguments: The JSON text the model produced (as found in a tool
                call's ``function.arguments``) or an already decoded dict.
                Blank text counts as ``{}``: some servers send it for a call
                without arguments.

        Returns:
            Whatever the function returns.

        Raises:
            ToolArgumentError: if the text is not JSON, not a JSON object, or
                the arguments do not match the schema.
        """
        if isinstance(arguments, str):
            arguments = self._parse(arguments)
        return self.func(**self.validate(arguments))

    def _parse(self, text: str) -> object:
        if not text.strip():
            return {}
        try:
            return json.loads(text, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as error:
            detail = str(error) or type(error).__name__  # e.g. "Expecting value: line 1 column 14 (char 13)"
            quoted = text if len(text) <= _MAX_QUOTED else text[:_MAX_QUOTED] + "…"
            raise ToolArgumentError(
                self.name,
                [f"the arguments are not valid JSON ({detail}): {quoted!r}"],
                expected=describe_parameters(self.parameters),
            ) from None


@overload
def tool(func: Callable[..., Any], /) -> Tool: ...
@overload
def tool(
    *, name: str | None = None, description: str | None = None
) -> Callable[[Callable[..., Any]], Tool]: ...
def tool(
    func: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Turn a typed, documented function into a :class:`Tool`.

    Use it bare, ``@tool``, or with options,
    ``@tool(name="time_now", description="...")``. The schema is built at
    decoration time, so a function that cannot be a tool fails on import
    with a :class:`ToolSchemaError` that says what to fix.
    """
    if func is not None:
        return Tool(func, name=name, description=description)

    def decorate(function: Callable[..., Any]) -> Tool:
        return Tool(function, name=name, description=description)

    return decorate
