"""Deriving a tool's JSON Schema from a typed, documented Python function.

A model never sees your Python code. It sees a *schema*: the tool's name, a
description, and a JSON Schema for its arguments. Writing that schema by hand
duplicates the function's signature and drifts out of date, so we derive it:

* the **name** is the function's name;
* the **description** is the docstring's summary (the text before ``Args:``);
* each **parameter** becomes a property whose JSON type comes from the type
  hint (``str`` -> ``"string"``, ``list[int]`` -> array of integers, ...),
  whose description comes from the ``Args:`` section and which is
  *required* unless the parameter has a default.

For example::

    def get_current_time(timezone: str = "UTC") -> str:
        \"\"\"Return the current time in a timezone.

        Args:
            timezone: IANA timezone name, e.g. "Europe/Paris".
        \"\"\"

    function_schema(get_current_time) == {
        "name": "get_current_time",
        "description": "Return the current time in a timezone.",
        "parameters": {
            "type": "object",
            "properties": {
                "timezone": {
                    "type": "string",
                    "description": 'IANA timezone name, e.g. "Europe/Paris".',
                    "default": "UTC",
                },
            },
            "required": [],
            "additionalProperties": False,
        },
    }

Only types that JSON can carry *and* a small model can fill in reliably are
supported; anything else is refused with a :class:`ToolSchemaError` when the
tool is defined, rather than failing later in front of the model.
"""

from __future__ import annotations

import enum
import inspect
import re
import types
import typing
from collections.abc import Callable
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from .docstrings import parse_docstring
from .errors import ToolSchemaError
from .validation import check_value

__all__ = ["annotation_schema", "function_schema", "parameter_types", "SUPPORTED_TYPES"]

SUPPORTED_TYPES = (
    "str, int, float, bool, an Enum subclass with string or integer values, "
    "Literal[...] of strings/integers/booleans/None, list[T], dict[str, T] and "
    "Optional[T] (also written T | None), where T is itself a supported type"
)

# OpenAI-compatible servers (llama.cpp, Ollama, vLLM) accept this alphabet.
_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_NONE_TYPE = type(None)


def _type_name(annotation: object) -> str:
    """A readable spelling of a type hint: ``list[int]``, ``Optional[str]``, ``Color``."""
    if isinstance(annotation, type) and not get_args(annotation):
        return annotation.__qualname__
    return repr(annotation).replace("typing.", "")


def _unsupported(annotation: object, outer: object, where: str, hint: str = "") -> ToolSchemaError:
    inside = f" (inside {_type_name(outer)})" if outer is not annotation else ""
    return ToolSchemaError(
        f"{where}: unsupported type {_type_name(annotation)}{inside}"
        + (f"; {hint}" if hint else "")
        + f". Supported types: {SUPPORTED_TYPES}."
    )


def annotation_schema(annotation: object) -> dict[str, Any]:
    """Return the JSON Schema for one Python type hint.

    >>> annotation_schema(list[int])
    {'type': 'array', 'items': {'type': 'integer'}}
    >>> annotation_schema(str | None)
    {'anyOf': [{'type': 'string'}, {'type': 'null'}]}

    ``Annotated[T, "some text"]`` is ``T`` with ``"some text"`` as its
    description. Unsupported types (``Any``, tuples, sets, arbitrary classes,
    unions of several types, ...) raise :class:`ToolSchemaError`.
    """
    return _schema(annotation, outer=annotation, where=f"type {_type_name(annotation)}")


def _schema(annotation: object, *, outer: object, where: str) -> dict[str, Any]:
    origin, args = get_origin(annotation), get_args(annotation)

    if origin is Annotated:
        schema = _schema(args[0], outer=outer, where=where)
        metadata = annotation.__metadata__  # type: ignore[attr-defined]
        notes = [note for note in metadata if isinstance(note, str)]
        if notes:
            schema["description"] = " ".join(" ".join(notes).split())
        return schema
    # Identity checks: bool is a subclass of int, and an IntEnum is both.
    if annotation is str:
        return {"type": "string"}
    if annotation is bool:
        return {"type": "boolean"}
    if annotation is int:
        return {"type": "integer"}
    if annotation is float:
        return {"type": "number"}  # JSON numbers: 2 is as good as 2.0
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return _enum_schema(annotation, outer=outer, where=where)
    if origin is Literal:
        return _literal_schema(annotation, outer=outer, where=where)
    if annotation is list or origin is list:
        if not args:
            return {"type": "array"}
        return {"type": "array", "items": _schema(args[0], outer=outer, where=where)}
    if annotation is dict or origin is dict:
        if not args:
            return {"type": "object"}
        if args[0] is not str:
            raise _unsupported(
                annotation, outer, where, "JSON object keys are always strings, use dict[str, T]"
            )
        return {
            "type": "object",
            "additionalProperties": _schema(args[1], outer=outer, where=where),
        }
    if origin is Union or origin is types.UnionType:
        others = [arg for arg in args if arg is not _NONE_TYPE]
        if len(others) == 1 and len(args) == 2:
            return {"anyOf": [_schema(others[0], outer=outer, where=where), {"type": "null"}]}
        raise _unsupported(
            annotation, outer, where,
            "a model fills a union of several types unreliably; use one type, "
            "Optional[T] for 'T or nothing', or a Literal/Enum for a set of choices",
        )  # fmt: skip
    raise _unsupported(annotation, outer, where, _hint_for(annotation, origin))


def _hint_for(annotation: object, origin: object) -> str:
    """A specific suggestion for the usual unsupported suspects."""
    if annotation is Any:
        return "Any tells the model nothing about what to send; choose a concrete type"
    if annotation is tuple or origin is tuple:
        return "use list[T] instead of a tuple"
    if annotation in (set, frozenset) or origin in (set, frozenset):
        return "use list[T] instead of a set"
    if annotation is _NONE_TYPE or annotation is None:
        return "a parameter that can only be None carries no information"
    if isinstance(annotation, (str, typing.ForwardRef)):
        return "string annotations must be resolved first (function_schema does this)"
    return ""


def _enum_schema(cls: type[enum.Enum], *, outer: object, where: str) -> dict[str, Any]:
    values = [member.value for member in cls]
    if not values:
        raise _unsupported(cls, outer, where, f"Enum {cls.__qualname__} has no members")
    # The model sends the member's *value*, so it must be a JSON string or integer.
    if all(isinstance(value, str) for value in values):
        return {"type": "string", "enum": [str.__str__(value) for value in values]}
    if all(isinstance(value, int) and not isinstance(value, bool) for value in values):
        return {"type": "integer", "enum": [int(value) for value in values]}
    raise _unsupported(
        cls, outer, where,
        f"the values of Enum {cls.__qualname__} must be all strings or all integers, "
        f"got {values!r}",
    )  # fmt: skip


_LITERAL_JSON_TYPES = {str: "string", int: "integer", bool: "boolean", _NONE_TYPE: "null"}


def _literal_schema(annotation: object, *, outer: object, where: str) -> dict[str, Any]:
    values = list(get_args(annotation))
    for value in values:
        if type(value) not in _LITERAL_JSON_TYPES:
            hint = (
                "use the Enum class itself as the type instead of Literal[member, ...]"
                if isinstance(value, enum.Enum)
                else f"Literal values must be strings, integers, booleans or None, got {value!r}"
            )
            raise _unsupported(annotation, outer, where, hint)
    kinds = {_LITERAL_JSON_TYPES[type(value)] for value in values}
    schema: dict[str, Any] = {"type": kinds.pop()} if len(kinds) == 1 else {}
    schema["enum"] = values
    return schema


def parameter_types(func: Callable[..., Any]) -> dict[str, Any]:
    """Resolve a function's type hints, also under ``from __future__ import annotations``.

    With postponed evaluation every annotation is a string (``"list[int]"``);
    :func:`typing.get_type_hints` evaluates them in the function's module.
    ``include_extras=True`` keeps ``Annotated[...]`` so its text can become a
    description. The return annotation is dropped: it is not part of a call.
    """
    try:
        hints = typing.get_type_hints(func, include_extras=True)
    except Exception as error:  # NameError, SyntaxError, TypeError from odd hints
        raise ToolSchemaError(
            f"cannot resolve the type hints of {getattr(func, '__qualname__', func)!r}: "
            f"{error}. Every type used in the signature must be importable from the "
            "function's module (with `from __future__ import annotations`, a class "
            "defined inside another function cannot be found)."
        ) from error
    hints.pop("return", None)
    return hints


def _json_default(value: object) -> object:
    """A default as the model would send it: Enum members as values, tuples as lists."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_json_default(item) for item in value]
    if isinstance(value, dict):
        return {key: _json_default(item) for key, item in value.items()}
    return value


def function_schema(
    func: Callable[..., Any], *, name: str | None = None, description: str | None = None
) -> dict[str, Any]:
    """Derive a tool schema from a function's signature, type hints and docstring.

    Args:
        func: A function whose parameters all have supported type hints and
            can be passed by keyword (no ``*args``, ``**kwargs`` or ``/``).
        name: The tool name; defaults to ``func.__name__``.
        description: The tool description; defaults to the docstring summary.
            When given, the docstring is no longer required.

    Returns:
        ``{"name": ..., "description": ..., "parameters": {...}}`` where
        ``parameters`` is a JSON Schema object with ``properties``,
        ``required`` and ``"additionalProperties": False``.

    Raises:
        ToolSchemaError: with a message that says what to change.
    """
    if not callable(func):
        raise ToolSchemaError(f"a tool must be a function, got {func!r}")
    tool_name = name if name is not None else getattr(func, "__name__", None)
    if not isinstance(tool_name, str) or not _NAME_RE.match(tool_name):
        raise ToolSchemaError(
            f"invalid tool name {tool_name!r}: use 1-64 letters, digits, '_' or '-' "
            "(pass name=... to choose one)"
        )
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError) as error:
        raise ToolSchemaError(f"tool {tool_name!r}: cannot read its signature: {error}") from error
    hints = parameter_types(func)
    doc = parse_docstring(getattr(func, "__doc__", None))

    if description is None:
        description = doc.summary
        if not description:
            raise ToolSchemaError(
                f"tool {tool_name!r} has no docstring summary. Add a docstring: its "
                "first paragraph is the description the model reads to decide when to "
                "call the tool, and an 'Args:' section describes each parameter (or "
                "pass description=...)."
            )
    else:
        description = description.strip()

    properties: dict[str, Any] = {}
    required: list[str] = []
    for parameter in signature.parameters.values():
        where = f"parameter {parameter.name!r} of tool {tool_name!r}"
        _check_kind(parameter, where)
        if parameter.name not in hints:
            hint = (
                "; decorate the bound method (tool(obj.method)), not the function "
                "in the class body"
                if parameter.name in ("self", "cls")
                else ""
            )
            raise ToolSchemaError(
                f"{where} has no type hint, so the model cannot know what to send{hint}. "
                f"Annotate it with one of: {SUPPORTED_TYPES}."
            )
        schema = _schema(hints[parameter.name], outer=hints[parameter.name], where=where)
        if doc.params.get(parameter.name):
            schema["description"] = doc.params[parameter.name]
        if parameter.default is inspect.Parameter.empty:
            required.append(parameter.name)
        else:
            schema["default"] = _checked_default(parameter, schema, hints[parameter.name], where)
        properties[parameter.name] = schema

    typos = [documented for documented in doc.params if documented not in signature.parameters]
    if typos:
        raise ToolSchemaError(
            f"tool {tool_name!r}: the docstring documents {', '.join(map(repr, typos))}, "
            f"which is not a parameter (parameters: {', '.join(signature.parameters) or 'none'}). "
            "Fix the spelling or remove the entry, or the model is told about an "
            "argument it cannot pass."
        )
    return {
        "name": tool_name,
        "description": description,
        "parameters": {
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        },
    }


def _check_kind(parameter: inspect.Parameter, where: str) -> None:
    """Tool arguments arrive as a JSON object, i.e. by name: refuse other kinds."""
    kind = parameter.kind
    if kind is inspect.Parameter.VAR_POSITIONAL:
        raise ToolSchemaError(
            f"{where}: *{parameter.name} is not supported, because a model passes "
            f"arguments by name; use a list parameter instead, e.g. {parameter.name}: list[str]"
        )
    if kind is inspect.Parameter.VAR_KEYWORD:
        raise ToolSchemaError(
            f"{where}: **{parameter.name} is not supported; declare every argument the "
            "model may pass as its own typed parameter, so it appears in the schema"
        )
    if kind is inspect.Parameter.POSITIONAL_ONLY:
        raise ToolSchemaError(
            f"{where} is positional-only, but a model passes arguments by name; "
            "remove the '/' from the signature"
        )


def _checked_default(
    parameter: inspect.Parameter, schema: dict[str, Any], annotation: object, where: str
) -> object:
    """The default in JSON form, after checking it fits the parameter's own type."""
    default = _json_default(parameter.default)
    checked, problems = check_value(schema, default, label="the default")
    if problems:
        hint = (
            f"; if None is allowed, annotate it as Optional[{_type_name(annotation)}]"
            if parameter.default is None
            else ""
        )
        raise ToolSchemaError(
            f"{where}: default {parameter.default!r} does not fit the type "
            f"{_type_name(annotation)} ({'; '.join(problems)}){hint}"
        )
    return checked
