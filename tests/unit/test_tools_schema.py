"""Schema derivation: type hints and docstrings -> JSON Schema.

This module uses ``from __future__ import annotations`` on purpose: every
annotation below is a string that function_schema has to resolve.
"""

from __future__ import annotations

import enum
import typing
from typing import Annotated, Any, List, Literal, Optional, Union

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from course.tools import ToolSchemaError, annotation_schema, function_schema
from course.tools.docstrings import parse_docstring
from course.tools.errors import ToolError

try:
    from strategies import FunctionSpec, function_specs, same_json, to_json, type_specs
except ImportError:  # tests/ made a package: import it as one
    from tests.strategies import FunctionSpec, function_specs, same_json, to_json, type_specs

PROPERTY_SETTINGS = settings(max_examples=150, deadline=None)


class Unit(enum.Enum):
    CELSIUS = "celsius"
    FAHRENHEIT = "fahrenheit"


class Priority(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Mixed(enum.Enum):
    A = "a"
    B = 2


class Empty(enum.Enum):
    pass


class Point:
    x: int


def get_current_time(timezone: str = "UTC") -> str:
    """Return the current time in a timezone.

    Args:
        timezone: IANA timezone name, e.g. "Europe/Paris".

    Returns:
        The time as HH:MM.
    """
    return "12:00"


def test_get_current_time_schema() -> None:
    assert function_schema(get_current_time) == {
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


def every_type(
    text: str,
    count: int,
    ratio: float,
    flag: bool,
    unit: Unit,
    priority: Priority,
    mode: Literal["fast", "slow"],
    choice: Literal["auto", 0, None],
    tags: list[str],
    matrix: List[list[float]],
    anything: list,
    scores: dict[str, int],
    loose: dict,
    maybe: Optional[int],
    maybe_units: list[Unit] | None,
    city: Annotated[str, "A city name."],
    days: int = 3,
    units: list[Unit] = [Unit.CELSIUS],  # noqa: B006 - a default, never mutated
    nothing: str | None = None,
    default_unit: Unit = Unit.FAHRENHEIT,
    labels: list[str] = ("a", "b"),  # type: ignore[assignment] - tuples become arrays
) -> None:
    """Exercise every supported type.

    This second line belongs
    to the description too.

    Args:
        text: Some text.
        count: How many
            (continuation line).
        maybe: An optional integer.
        city: Overrides the Annotated text.

    Raises:
        ValueError: never.
    """


def test_every_supported_type_schema() -> None:
    schema = function_schema(every_type)
    assert schema["name"] == "every_type"
    assert schema["description"] == (
        "Exercise every supported type. This second line belongs to the description too."
    )
    assert schema["parameters"] == {
        "type": "object",
        "properties": {
            "text": {"type": "string", "description": "Some text."},
            "count": {"type": "integer", "description": "How many (continuation line)."},
            "ratio": {"type": "number"},
            "flag": {"type": "boolean"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "priority": {"type": "integer", "enum": [1, 2]},
            "mode": {"type": "string", "enum": ["fast", "slow"]},
            "choice": {"enum": ["auto", 0, None]},
            "tags": {"type": "array", "items": {"type": "string"}},
            "matrix": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
            "anything": {"type": "array"},
            "scores": {"type": "object", "additionalProperties": {"type": "integer"}},
            "loose": {"type": "object"},
            "maybe": {
                "anyOf": [{"type": "integer"}, {"type": "null"}],
                "description": "An optional integer.",
            },
            "maybe_units": {
                "anyOf": [
                    {
                        "type": "array",
                        "items": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                    },
                    {"type": "null"},
                ]
            },
            "city": {"type": "string", "description": "Overrides the Annotated text."},
            "days": {"type": "integer", "default": 3},
            "units": {
                "type": "array",
                "items": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "default": ["celsius"],
            },
            "nothing": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
            "default_unit": {
                "type": "string",
                "enum": ["celsius", "fahrenheit"],
                "default": "fahrenheit",
            },
            "labels": {"type": "array", "items": {"type": "string"}, "default": ["a", "b"]},
        },
        "required": [
            "text", "count", "ratio", "flag", "unit", "priority", "mode", "choice", "tags",
            "matrix", "anything", "scores", "loose", "maybe", "maybe_units", "city",
        ],  # fmt: skip
        "additionalProperties": False,
    }
    Draft202012Validator.check_schema(schema["parameters"])


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        (str, {"type": "string"}),
        (int, {"type": "integer"}),
        (float, {"type": "number"}),
        (bool, {"type": "boolean"}),
        (Unit, {"type": "string", "enum": ["celsius", "fahrenheit"]}),
        (Priority, {"type": "integer", "enum": [1, 2]}),
        (Literal[1, 2], {"type": "integer", "enum": [1, 2]}),
        (Literal[True], {"type": "boolean", "enum": [True]}),
        (Literal["a", 1], {"enum": ["a", 1]}),
        (list[int], {"type": "array", "items": {"type": "integer"}}),
        (List[str], {"type": "array", "items": {"type": "string"}}),
        (list, {"type": "array"}),
        (dict[str, bool], {"type": "object", "additionalProperties": {"type": "boolean"}}),
        (Optional[str], {"anyOf": [{"type": "string"}, {"type": "null"}]}),
        (Union[None, str], {"anyOf": [{"type": "string"}, {"type": "null"}]}),
        (int | None, {"anyOf": [{"type": "integer"}, {"type": "null"}]}),
        (
            Optional[Literal["x"]],
            {"anyOf": [{"type": "string", "enum": ["x"]}, {"type": "null"}]},
        ),
        (Annotated[int, "How many."], {"type": "integer", "description": "How many."}),
    ],
)
def test_annotation_schema(annotation: Any, expected: dict[str, Any]) -> None:
    assert annotation_schema(annotation) == expected
    Draft202012Validator.check_schema(expected)


@pytest.mark.parametrize(
    ("annotation", "mentions"),
    [
        (Any, "Any"),
        (tuple[int, int], "tuple"),
        (set[str], "set"),
        (Point, "Point"),
        (Union[int, str], "Union[int, str]"),
        (int | str | None, "int | str | None"),
        (dict[int, str], "dict[str, T]"),
        (list[tuple[int]], "inside list[tuple[int]]"),
        (Optional[Any], "Any"),
        (Mixed, "all strings or all integers"),
        (Empty, "no members"),
        (Literal[Unit.CELSIUS], "Enum class itself"),
        (Literal[b"raw"], "b'raw'"),
        (type(None), "NoneType"),
        ("int", "resolved"),
        (bytes, "bytes"),
    ],
)
def test_annotation_schema_rejects_unsupported(annotation: Any, mentions: str) -> None:
    with pytest.raises(ToolSchemaError) as caught:
        annotation_schema(annotation)
    message = str(caught.value)
    assert mentions in message
    assert "Supported types: str, int, float, bool" in message
    assert isinstance(caught.value, TypeError) and isinstance(caught.value, ToolError)


def no_docstring(city: str) -> str:
    return city


def only_sections(city: str) -> str:
    """Args:
    city: The city.
    """
    return city


def star_args(*cities: str) -> str:
    """Join cities."""
    return ",".join(cities)


def star_kwargs(**options: str) -> str:
    """Take options."""
    return ""


def positional_only(city: str, /) -> str:
    """Take a city."""
    return city


def unannotated(city) -> str:  # type: ignore[no-untyped-def]
    """Take a city."""
    return str(city)


def unsupported_param(point: Point) -> str:
    """Take a point."""
    return ""


def documented_typo(city: str) -> str:
    """Take a city.

    Args:
        ctiy: The city.
    """
    return city


def none_default(count: int = None) -> int:  # type: ignore[assignment]
    """Count."""
    return 0


def wrong_default(count: int = "three") -> int:  # type: ignore[assignment]
    """Count."""
    return 0


def unknown_name(city: NotDefinedAnywhere) -> str:  # type: ignore[name-defined]  # noqa: F821
    """Take a city."""
    return ""


class Holder:
    def method(self, city: str) -> str:
        """Take a city."""
        return city


@pytest.mark.parametrize(
    ("func", "mentions"),
    [
        (no_docstring, "has no docstring"),
        (only_sections, "has no docstring"),
        (star_args, "*cities is not supported"),
        (star_args, "list parameter"),
        (star_kwargs, "**options is not supported"),
        (positional_only, "positional-only"),
        (unannotated, "parameter 'city' of tool 'unannotated' has no type hint"),
        (unsupported_param, "parameter 'point' of tool 'unsupported_param': unsupported type"),
        (documented_typo, "documents 'ctiy', which is not a parameter (parameters: city)"),
        (none_default, "Optional[int]"),
        (wrong_default, "default 'three' does not fit the type int"),
        (unknown_name, "NotDefinedAnywhere"),
        (Holder.method, "decorate the bound method"),
        (lambda city: city, "invalid tool name '<lambda>'"),
        (42, "must be a function"),
    ],
)
def test_function_schema_errors(func: Any, mentions: str) -> None:
    with pytest.raises(ToolSchemaError) as caught:
        function_schema(func)
    assert mentions in str(caught.value)


def test_bound_method_and_overrides() -> None:
    schema = function_schema(Holder().method, name="take-city", description="  Custom.  ")
    assert schema["name"] == "take-city"
    assert schema["description"] == "Custom."
    assert schema["parameters"]["required"] == ["city"]


def test_explicit_description_makes_the_docstring_optional() -> None:
    assert function_schema(no_docstring, description="Echo a city.")["description"] == (
        "Echo a city."
    )


def test_return_annotation_is_not_part_of_the_schema() -> None:
    def returns_something(city: str) -> Point:
        """Make a point."""
        return Point()

    assert list(function_schema(returns_something)["parameters"]["properties"]) == ["city"]


def test_keyword_only_parameters_are_supported() -> None:
    def search(query: str, *, limit: int = 5, exact: bool) -> list[str]:
        """Search."""
        return []

    params = function_schema(search)["parameters"]
    assert list(params["properties"]) == ["query", "limit", "exact"]
    assert params["required"] == ["query", "exact"]


def test_no_parameters() -> None:
    def ping() -> str:
        """Check the connection."""
        return "pong"

    assert function_schema(ping)["parameters"] == {
        "type": "object",
        "properties": {},
        "required": [],
        "additionalProperties": False,
    }


def rest_style(city: str, days: int = 1) -> str:
    """Forecast the weather.

    :param str city: The city,
        with a continuation.
    :param days: How many days.
    :returns: A forecast.
    """
    return ""


def arguments_header(city: str, days: int = 1) -> str:
    """Forecast the weather.

    Arguments:
        city (str): The city.
        days (int, optional): How many
            days ahead.
    """
    return ""


def parameters_header(city: str) -> str:
    """Forecast the weather.

    Parameters:
        city: The city.

    Example:
        forecast("Paris")
    """
    return ""


@pytest.mark.parametrize(
    ("func", "descriptions"),
    [
        (rest_style, {"city": "The city, with a continuation.", "days": "How many days."}),
        (arguments_header, {"city": "The city.", "days": "How many days ahead."}),
        (parameters_header, {"city": "The city."}),
    ],
)
def test_docstring_styles(func: Any, descriptions: dict[str, str]) -> None:
    schema = function_schema(func)
    assert schema["description"] == "Forecast the weather."
    found = {
        name: prop["description"]
        for name, prop in schema["parameters"]["properties"].items()
        if "description" in prop
    }
    assert found == descriptions


def test_parse_docstring_summary_stops_at_first_section() -> None:
    doc = """Look up a word.

    Only English words:
    others are refused.

    Returns:
        The definition.

    Args:
        word: The word.
    """
    parsed = parse_docstring(doc)
    assert parsed.summary == "Look up a word. Only English words: others are refused."
    assert parsed.params == {"word": "The word."}


def test_parse_docstring_numpy_header_ends_summary() -> None:
    parsed = parse_docstring("Add.\n\nParameters\n----------\nx : int\n    A number.\n")
    assert parsed.summary == "Add."


def test_parse_empty_docstring() -> None:
    assert parse_docstring(None) == ("", {})
    assert parse_docstring("   ") == ("", {})


# --- properties -----------------------------------------------------------


@PROPERTY_SETTINGS
@given(spec=type_specs())
def test_annotation_schema_is_valid_json_schema(spec: Any) -> None:
    schema = annotation_schema(spec.annotation)
    Draft202012Validator.check_schema(schema)
    # Each call builds a fresh dict: mutating one cannot corrupt another.
    schema["mutated"] = True
    assert "mutated" not in annotation_schema(spec.annotation)


def _check_against_spec(schema: dict[str, Any], spec: FunctionSpec) -> None:
    assert schema["name"] == spec.name
    assert schema["description"] == spec.summary
    params = schema["parameters"]
    Draft202012Validator.check_schema(params)
    assert params["type"] == "object" and params["additionalProperties"] is False
    assert list(params["properties"]) == [p.name for p in spec.params]
    assert params["required"] == [p.name for p in spec.params if not p.has_default]
    for p in spec.params:
        prop = params["properties"][p.name]
        assert prop.get("description") == p.description
        if p.has_default:
            assert same_json(prop["default"], to_json(p.default)), (prop, p.default)
            # The default satisfies the parameter's own schema.
            assert Draft202012Validator(prop).is_valid(prop["default"])
        else:
            assert "default" not in prop
        bare = {k: v for k, v in prop.items() if k not in ("description", "default")}
        assert bare == annotation_schema(p.type.annotation)


@PROPERTY_SETTINGS
@given(spec=function_specs())
def test_function_schema_of_random_signatures(spec: FunctionSpec) -> None:
    _check_against_spec(function_schema(spec.build()), spec)


@PROPERTY_SETTINGS
@given(spec=function_specs())
def test_postponed_annotations_give_the_same_schema(spec: FunctionSpec) -> None:
    # exec'd under `from __future__ import annotations`: every hint is a string.
    func = spec.build(use_exec=True)
    assert all(isinstance(hint, str) for hint in func.__annotations__.values())
    schema = function_schema(func)
    _check_against_spec(schema, spec)
    assert schema == function_schema(spec.build())


@PROPERTY_SETTINGS
@given(spec=function_specs(max_params=3), data=st.data())
def test_documenting_an_absent_parameter_is_an_error(spec: FunctionSpec, data: Any) -> None:
    names = {p.name for p in spec.params}
    ghost = data.draw(
        st.from_regex(r"[a-z]\w{0,8}", fullmatch=True).filter(lambda n: n not in names)
    )
    func = spec.build()
    func.__doc__ = spec.docstring + f"\n:param {ghost}: Not there.\n"
    with pytest.raises(ToolSchemaError, match=ghost):
        function_schema(func)


def test_get_type_hints_is_what_resolves_strings() -> None:
    # Guard for the premise of this module: annotations here are strings.
    assert get_current_time.__annotations__["timezone"] == "str"
    assert typing.get_type_hints(get_current_time)["timezone"] is str
