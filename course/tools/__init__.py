"""Typed Python functions as tools a language model can call.

The pieces, in the order a tool call goes through them:

1. :func:`function_schema` (built on :func:`annotation_schema`) derives the
   JSON Schema the model sees from a function's type hints and docstring;
2. :func:`validate_arguments` checks the arguments the model sent against
   that schema and reports every problem in a message meant for the model;
3. :class:`Tool` and the :func:`tool` decorator tie both to the function:
   ``spec()`` for the request, ``invoke()`` for the model's call.

Mistakes in a tool's *definition* raise :class:`ToolSchemaError`; mistakes
in a model's *call* raise :class:`ToolArgumentError`.
"""

from .errors import ToolArgumentError, ToolError, ToolSchemaError
from .schema import annotation_schema, function_schema
from .tool import Tool, tool
from .validation import validate_arguments
from .clock import get_current_time  # noqa: E402  (the course's first tool; needs `tool` above)

__all__ = [
    "get_current_time",
    "tool",
    "Tool",
    "function_schema",
    "annotation_schema",
    "validate_arguments",
    "ToolError",
    "ToolArgumentError",
    "ToolSchemaError",
]
