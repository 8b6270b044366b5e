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
    ### BEGIN SOLUTION
    simple = {str: "string", int: "integer", float: "number", bool: "boolean"}
    if annotation in simple:
        return {"type": simple[annotation]}
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Literal:
        kinds = {json_type(type(value))["type"] for value in args}
        schema: dict = {"enum": list(args)}
        if len(kinds) == 1:
            schema = {"type": kinds.pop(), "enum": list(args)}
        return schema
    if origin is list:
        return {"type": "array", "items": json_type(args[0])} if args else {"type": "array"}
    if origin in (Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1 and len(args) == 2:
            return {"anyOf": [json_type(rest[0]), {"type": "null"}]}
    raise TypeError(f"unsupported parameter type {annotation!r}")
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    hints = typing.get_type_hints(func)
    properties: dict = {}
    required = []
    for name, param in inspect.signature(func).parameters.items():
        prop = json_type(hints[name])
        if param.default is inspect.Parameter.empty:
            required.append(name)
        else:
            prop["default"] = param.default
        properties[name] = prop
    doc = inspect.getdoc(func) or ""
    description = " ".join(doc.split("\n\n")[0].split())
    return {
        "name": func.__name__,
        "description": description,
        "parameters": {"type": "object", "properties": properties, "required": required},
    }
    ### END SOLUTION
