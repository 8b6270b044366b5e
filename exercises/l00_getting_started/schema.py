"""Exercise l00.2: derive a tool's JSON schema from its Python signature.

A model never sees your Python function, only a JSON schema of its parameters.
Here you write that translation for the simple types, the way
:func:`course.tools.function_schema` does it for the course.
"""

import inspect
import types
import typing
from typing import Any, Literal, Union


def json_type(annotation: Any) -> dict:
    """The JSON schema of one parameter type.

    ``str`` -> ``{"type": "string"}``, ``int`` -> ``{"type": "integer"}``,
    ``float`` -> ``{"type": "number"}``, ``bool`` -> ``{"type": "boolean"}``,
    ``Literal["a", "b"]`` -> ``{"type": "string", "enum": ["a", "b"]}`` (values of
    different JSON types, ``Literal["a", 1]``, -> ``{"enum": ["a", 1]}`` with no ``"type"``),
    ``list[T]`` -> ``{"type": "array", "items": <schema of T>}``,
    ``Optional[T]`` (or ``T | None``) -> ``{"anyOf": [<schema of T>, {"type": "null"}]}``.
    Anything else raises ``TypeError``.
    """
    # YOUR CODE HERE: exercise l00.2, Derive the schema for simple types
    raise NotImplementedError("exercise l00.2: read lessons/l00_getting_started/index.md#from-signature-to-schema, then run `course check l00`")


def tool_schema(func: Any) -> dict:
    """The schema of a whole function, in the shape tools are given to a model::

        {"name": "get_current_time",
         "description": "<first paragraph of the docstring>",
         "parameters": {"type": "object",
                        "properties": {"timezone": {"type": "string", "default": "UTC"}},
                        "required": []}}

    Every parameter is a property; those without a default are ``required`` (in
    signature order); those with one carry it as ``"default"``.
    """
    # YOUR CODE HERE: exercise l00.2, Derive the schema for simple types
    raise NotImplementedError("exercise l00.2: read lessons/l00_getting_started/index.md#from-signature-to-schema, then run `course check l00`")
