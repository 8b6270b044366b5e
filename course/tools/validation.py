"""Checking a model's tool-call arguments before the tool runs.

Small models get arguments wrong often: ``"3"`` for ``3``, ``1`` for
``true``, ``"tz"`` for ``"timezone"``, a forgotten argument. Calling the
Python function anyway would fail somewhere inside it with a message the
model cannot act on. Instead we check the arguments against the tool's JSON
Schema first and answer with *every* problem, phrased for the model::

    get_current_time: argument 'timezone' must be a string, got 3 (integer);
    unexpected argument 'tz'. Expected arguments: timezone (string, optional,
    default "UTC")

The rules are those of JSON Schema (draft 2020-12), restricted to the
keywords :func:`course.tools.function_schema` produces (``type``, ``enum``,
``items``, ``properties``, ``required``, ``additionalProperties`` and
``anyOf``). The property tests check this validator against the
``jsonschema`` package. Points worth knowing:

* ``true``/``false`` are not integers or numbers, although Python's
  ``bool`` is a subclass of ``int``;
* ``3.0`` *is* an integer (JSON does not distinguish), and is turned into
  the Python ``int`` 3;
* strings are never converted to numbers: ``"3"`` is not an integer;
* ``null`` is accepted only where the schema allows it (``Optional[T]``).
"""

from __future__ import annotations

import copy
import difflib
import json
import numbers
from collections.abc import Callable
from typing import Any

from .errors import ToolArgumentError, ToolSchemaError

__all__ = ["validate_arguments", "check_value", "describe_parameters", "json_type_name"]

# The keywords this validator implements, plus annotations it may ignore.
# Anything else would be silently skipped, so it is refused instead.
_KEYWORDS = frozenset(
    {"type", "enum", "items", "properties", "required", "additionalProperties", "anyOf"}
)
_ANNOTATIONS = frozenset({"description", "default", "title", "examples"})
_JSON_TYPES = ("string", "integer", "number", "boolean", "array", "object", "null")
_NOUNS = {
    "string": ("a string", "strings"),
    "integer": ("an integer", "integers"),
    "number": ("a number", "numbers"),
    "boolean": ("a boolean", "booleans"),
    "array": ("an array", "arrays"),
    "object": ("an object", "objects"),
    "null": ("null", "nulls"),
}
_MAX_SHOWN = 60  # characters of a wrong value quoted back to the model

Schema = dict[str, Any] | bool
Namer = Callable[[str], str]


def json_type_name(value: object) -> str:
    """Return the JSON name of a value's type: ``3`` -> ``"integer"``.

    Python values that JSON cannot hold are named by their Python type.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _has_type(value: object, json_type: str) -> bool:
    if json_type == "string":
        return isinstance(value, str)
    if json_type == "boolean":
        return isinstance(value, bool)
    if json_type == "null":
        return value is None
    if json_type == "array":
        return isinstance(value, list)
    if json_type == "object":
        return isinstance(value, dict)
    if isinstance(value, bool):  # bool subclasses int in Python, not in JSON
        return False
    if json_type == "integer":
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if json_type == "number":
        return isinstance(value, numbers.Number)
    raise ToolSchemaError(f"unknown JSON Schema type {json_type!r}; use one of {_JSON_TYPES}")


def _json_equal(a: object, b: object) -> bool:
    """Equality as JSON Schema's ``enum`` defines it: ``1 == 1.0`` but ``1 != true``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, numbers.Number) and isinstance(b, numbers.Number):
        return a == b
    return type(a) is type(b) and a == b


def _show(value: object) -> str:
    """Quote a (possibly long) value back to the model, with its JSON type."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    if len(text) > _MAX_SHOWN:
        text = text[: _MAX_SHOWN - 1] + "…"
    return text if value is None else f"{text} ({json_type_name(value)})"


def _values(options: list[Any]) -> str:
    return ", ".join(json.dumps(option) for option in options)


def _describe(schema: Schema, *, plural: bool = False) -> str:
    """Say in words what a schema accepts: ``"an array of integers"``."""
    if schema is True or schema == {}:
        return "values" if plural else "any value"
    if schema is False:
        return "nothing"
    if "enum" in schema:
        options = schema["enum"]
        if len(options) == 1 and not plural:
            return json.dumps(options[0])
        return f"values from {_values(options)}" if plural else f"one of {_values(options)}"
    if "anyOf" in schema:
        return " or ".join(_describe(branch, plural=plural) for branch in schema["anyOf"])
    types = schema.get("type")
    if types is None:
        return "values" if plural else "any value"
    if isinstance(types, list):
        return " or ".join(_describe({**schema, "type": t}, plural=plural) for t in types)
    words = _NOUNS[types][1 if plural else 0]
    if types == "array" and isinstance(schema.get("items"), dict) and schema["items"]:
        words += " of " + _describe(schema["items"], plural=True)
    if types == "object" and isinstance(schema.get("additionalProperties"), dict):
        words += " whose values are " + _describe(schema["additionalProperties"], plural=True)
    return words


def _bare(phrase: str) -> str:
    """``"an integer or null"`` -> ``"integer or null"`` for compact summaries."""
    for article in ("a ", "an "):
        if phrase.startswith(article):
            return phrase[len(article) :]
    return phrase


def describe_parameters(schema_parameters: dict[str, Any]) -> str:
    """Summarise a parameters schema on one line, as a reminder for the model.

    >>> describe_parameters({"type": "object", "properties": {
    ...     "city": {"type": "string"},
    ...     "days": {"type": "integer", "default": 1}}, "required": ["city"]})
    'city (string, required), days (integer, optional, default 1)'
    """
    properties = schema_parameters.get("properties") or {}
    required = set(schema_parameters.get("required") or ())
    if not properties:
        return "none (call it with {})"
    parts = []
    for name, schema in properties.items():
        facts = [_bare(_describe(schema))]
        facts.append("required" if name in required else "optional")
        if isinstance(schema, dict) and "default" in schema:
            facts.append(f"default {json.dumps(schema['default'])}")
        parts.append(f"{name} ({', '.join(facts)})")
    return ", ".join(parts)


def _check_supported(schema: object, where: str = "schema") -> None:
    """Refuse schemas using keywords this small validator does not implement."""
    if isinstance(schema, bool):
        return
    if not isinstance(schema, dict):
        raise ToolSchemaError(f"{where} must be a JSON Schema object, got {schema!r}")
    unknown = set(schema) - _KEYWORDS - _ANNOTATIONS
    if unknown:
        raise ToolSchemaError(
            f"{where} uses JSON Schema keywords this validator does not implement: "
            f"{sorted(unknown)}. It understands {sorted(_KEYWORDS)}, the subset "
            "function_schema() produces."
        )
    for key in ("items", "additionalProperties"):
        if key in schema:
            _check_supported(schema[key], f"{where}.{key}")
    for name, sub in (schema.get("properties") or {}).items():
        _check_supported(sub, f"{where}.properties.{name}")
    for i, sub in enumerate(schema.get("anyOf") or ()):
        _check_supported(sub, f"{where}.anyOf[{i}]")


class _Checker:
    """One validation run: walks a value and its schema side by side.

    ``check`` returns the (possibly converted) value and a list of problems;
    an empty list means the value is valid. ``namer`` turns a path such as
    ``tags[2]`` into the words used in messages (``argument 'tags[2]'``).
    """

    def __init__(self, namer: Namer, *, top_level_arguments: bool) -> None:
        self.namer = namer
        self.top_level_arguments = top_level_arguments

    def check(self, schema: Schema, value: Any, path: str) -> tuple[Any, list[str]]:
        if schema is True:
            return value, []
        if schema is False:
            return value, [f"{self.namer(path)} is not allowed"]
        if "anyOf" in schema:
            value, problems = self._any_of(schema["anyOf"], value, path)
            if problems:
                return value, problems
        if "type" in schema:
            types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            matched = next((t for t in types if _has_type(value, t)), None)
            if matched is None:
                return value, [self._mismatch(schema, value, path)]
            if matched == "integer" and isinstance(value, float):
                value = int(value)  # 3.0 is a JSON integer; the function wants an int
        if "enum" in schema:
            for option in schema["enum"]:
                if _json_equal(option, value):
                    value = copy.deepcopy(option)  # the canonical spelling: 1.0 -> 1
                    break
            else:
                return value, [self._mismatch(schema, value, path)]
        if isinstance(value, list) and "items" in schema:
            return self._array(schema["items"], value, path)
        if isinstance(value, dict) and (
            "properties" in schema or "required" in schema or "additionalProperties" in schema
        ):
            return self._object(schema, value, path)
        return value, []

    def _mismatch(self, schema: Schema, value: Any, path: str) -> str:
        return f"{self.namer(path)} must be {_describe(schema)}, got {_show(value)}"

    def _any_of(self, branches: list[Schema], value: Any, path: str) -> tuple[Any, list[str]]:
        failures = []
        for branch in branches:
            checked, problems = self.check(branch, value, path)
            if not problems:
                return checked, []
            failures.append((branch, problems))
        # If exactly one branch has the right kind of value (e.g. the array
        # branch of Optional[list[int]] for [1, "x"]), its detailed problems
        # are more useful than "must be an array of integers or null".
        fitting = [problems for branch, problems in failures if _same_kind(branch, value)]
        if len(fitting) == 1:
            return value, fitting[0]
        return value, [self._mismatch({"anyOf": branches}, value, path)]

    def _array(self, items: Schema, value: list[Any], path: str) -> tuple[Any, list[str]]:
        result, problems = [], []
        for index, item in enumerate(value):
            checked, item_problems = self.check(items, item, f"{path}[{index}]")
            result.append(checked)
            problems += item_problems
        return result, problems

    def _object(
        self, schema: dict[str, Any], value: dict[Any, Any], path: str
    ) -> tuple[Any, list[str]]:
        top = self.top_level_arguments and path == ""
        properties = schema.get("properties") or {}
        additional = schema.get("additionalProperties", True)
        result: dict[Any, Any] = {}
        problems: list[str] = []
        for key, item in value.items():
            child = key if top else f"{path}[{json.dumps(key)}]"
            if key in properties:
                sub_schema = properties[key]
            elif additional is False:
                problems.append(self._unexpected(key, value, properties, path, top))
                continue
            else:
                sub_schema = additional
            result[key], item_problems = self.check(sub_schema, item, child)
            problems += item_problems
        for key in schema.get("required") or ():
            if key not in value:
                problems.append(
                    f"missing required argument '{key}'"
                    if top
                    else f"{self.namer(path)} is missing the required key {json.dumps(key)}"
                )
        for key, sub_schema in properties.items():
            if key not in value and isinstance(sub_schema, dict) and "default" in sub_schema:
                result[key] = copy.deepcopy(sub_schema["default"])  # never share the schema's
        return result, problems

    def _unexpected(
        self, key: Any, value: dict[Any, Any], properties: dict[str, Any], path: str, top: bool
    ) -> str:
        message = f"unexpected argument '{key}'" if top else (
            f"{self.namer(path)} has an unexpected key {json.dumps(key)}"
        )
        # A close unused name is most likely what the model meant.
        unused = [name for name in properties if name not in value]
        guess = difflib.get_close_matches(str(key), unused, n=1) if unused else []
        return message + (f" (did you mean '{guess[0]}'?)" if guess else "")


def _same_kind(schema: Schema, value: object) -> bool:
    """Whether ``value`` has a JSON type that ``schema`` could accept at all."""
    if not isinstance(schema, dict):
        return bool(schema)
    if "anyOf" in schema:
        return any(_same_kind(branch, value) for branch in schema["anyOf"])
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        return any(_has_type(value, t) for t in types)
    if "enum" in schema:
        kind = json_type_name(value)
        return any(json_type_name(option) == kind for option in schema["enum"])
    return True


def check_value(
    schema: Schema, value: object, *, label: str = "value"
) -> tuple[object, list[str]]:
    """Check one value against a schema without raising.

    Returns the value (integral floats turned into ints where an integer is
    expected, defaults filled into objects) and the list of problems, empty
    when the value is valid. Messages name the value ``label``, e.g.
    ``"default must be an integer, got null"``.
    """
    _check_supported(schema)
    checker = _Checker(lambda path: label + path, top_level_arguments=False)
    return checker.check(schema, value, "")


def validate_arguments(
    schema_parameters: dict[str, Any], arguments: object, *, tool_name: str
) -> dict[str, Any]:
    """Validate a model's (JSON-decoded) arguments against a parameters schema.

    Args:
        schema_parameters: The ``"parameters"`` part of a tool schema, as
            produced by :func:`course.tools.function_schema`.
        arguments: What the model sent, after ``json.loads``. Anything but a
            JSON object (a list, a string, ``None``) is itself a problem.
        tool_name: Used to start the error message, so the model knows which
            of its calls was wrong.

    Returns:
        A new dict with the arguments, integral floats turned into ints where
        an integer is expected and missing optional arguments set to their
        defaults.

    Raises:
        ToolArgumentError: listing every problem found; its message is meant
            to be sent back to the model.
        ToolSchemaError: if ``schema_parameters`` is not an object schema or
            uses keywords this validator does not implement.
    """
    if not isinstance(schema_parameters, dict) or schema_parameters.get("type") != "object":
        raise ToolSchemaError(
            f"{tool_name}: the parameters schema must be a JSON Schema with "
            f'"type": "object", got {schema_parameters!r}'
        )
    _check_supported(schema_parameters, f"{tool_name} parameters schema")
    expected = describe_parameters(schema_parameters)
    if not isinstance(arguments, dict):
        raise ToolArgumentError(
            tool_name,
            [
                "the arguments must be a JSON object mapping argument names to "
                f"values, got {_show(arguments)}"
            ],
            expected=expected,
        )
    checker = _Checker(lambda path: f"argument '{path}'", top_level_arguments=True)
    result, problems = checker.check(schema_parameters, arguments, "")
    if problems:
        raise ToolArgumentError(tool_name, problems, expected=expected)
    return result
