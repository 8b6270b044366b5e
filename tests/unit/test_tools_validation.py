"""Argument validation: agreement with JSON Schema and messages for the model."""

from __future__ import annotations

import enum
from typing import Any, Literal, Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from course.tools import (
    ToolArgumentError,
    ToolSchemaError,
    annotation_schema,
    function_schema,
    validate_arguments,
)
from course.tools.errors import ToolError

try:
    from strategies import (
        FunctionSpec, argument_mutations, arguments_for, corrupt, function_specs,
        json_values, mutations, same_json, type_specs,
    )  # fmt: skip
except ImportError:  # tests/ made a package: import it as one
    from tests.strategies import (
        FunctionSpec, argument_mutations, arguments_for, corrupt, function_specs,
        json_values, mutations, same_json, type_specs,
    )  # fmt: skip

PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)


class Unit(enum.Enum):
    CELSIUS = "celsius"
    FAHRENHEIT = "fahrenheit"


def get_current_time(*, timezone: str = "UTC", city: str) -> str:
    """Return the current time in a city.

    Args:
        timezone: IANA timezone name.
        city: The city.
    """
    return ""


TIME = function_schema(get_current_time)["parameters"]


def weather(
    city: str,
    days: int = 1,
    unit: Unit = Unit.CELSIUS,
    hours: list[int] = [],  # noqa: B006 - a default, never mutated
    ratio: float = 0.5,
    detailed: bool = False,
    note: Optional[str] = None,
    mode: Literal["brief", "full"] = "brief",
    limits: dict[str, int] = {},  # noqa: B006
) -> str:
    """Forecast the weather."""
    return ""


WEATHER = function_schema(weather)["parameters"]


def problems(schema: dict[str, Any], arguments: object) -> list[str]:
    with pytest.raises(ToolArgumentError) as caught:
        validate_arguments(schema, arguments, tool_name="t")
    return caught.value.problems


def test_message_from_the_spec() -> None:
    with pytest.raises(ToolArgumentError) as caught:
        validate_arguments(TIME, {"timezone": 3, "tz": "UTC"}, tool_name="get_current_time")
    error = caught.value
    assert str(error) == (
        "get_current_time: argument 'timezone' must be a string, got 3 (integer); "
        "unexpected argument 'tz'; missing required argument 'city'. Expected arguments: "
        'timezone (string, optional, default "UTC"), city (string, required)'
    )
    assert error.tool_name == "get_current_time"
    assert error.problems == [
        "argument 'timezone' must be a string, got 3 (integer)",
        "unexpected argument 'tz'",
        "missing required argument 'city'",
    ]
    assert isinstance(error, ValueError) and isinstance(error, ToolError)


def test_valid_arguments_get_defaults() -> None:
    assert validate_arguments(TIME, {"city": "Paris"}, tool_name="t") == {
        "city": "Paris",
        "timezone": "UTC",
    }
    assert validate_arguments(WEATHER, {"city": "Oslo"}, tool_name="t") == {
        "city": "Oslo",
        "days": 1,
        "unit": "celsius",
        "hours": [],
        "ratio": 0.5,
        "detailed": False,
        "note": None,
        "mode": "brief",
        "limits": {},
    }


def test_filled_defaults_are_copies() -> None:
    first = validate_arguments(WEATHER, {"city": "Oslo"}, tool_name="t")
    first["hours"].append(3)
    assert WEATHER["properties"]["hours"]["default"] == []
    assert validate_arguments(WEATHER, {"city": "Oslo"}, tool_name="t")["hours"] == []


def test_input_is_not_modified() -> None:
    arguments = {"city": "Oslo", "hours": [1.0, 2]}
    result = validate_arguments(WEATHER, arguments, tool_name="t")
    assert arguments == {"city": "Oslo", "hours": [1.0, 2]}
    assert type(arguments["hours"][0]) is float
    assert result["hours"] == [1, 2] and all(type(h) is int for h in result["hours"])


@pytest.mark.parametrize("value", [True, False])
def test_bool_is_not_an_integer_or_number(value: bool) -> None:
    assert problems(WEATHER, {"city": "x", "days": value}) == [
        f"argument 'days' must be an integer, got {str(value).lower()} (boolean)"
    ]
    assert problems(WEATHER, {"city": "x", "ratio": value}) == [
        f"argument 'ratio' must be a number, got {str(value).lower()} (boolean)"
    ]


def test_integral_float_is_an_integer_and_becomes_int() -> None:
    result = validate_arguments(WEATHER, {"city": "x", "days": 3.0}, tool_name="t")
    assert result["days"] == 3 and type(result["days"]) is int


def test_non_integral_float_is_not_an_integer() -> None:
    assert problems(WEATHER, {"city": "x", "days": 3.5}) == [
        "argument 'days' must be an integer, got 3.5 (number)"
    ]


def test_int_is_a_number_and_stays_int() -> None:
    result = validate_arguments(WEATHER, {"city": "x", "ratio": 2}, tool_name="t")
    assert result["ratio"] == 2 and type(result["ratio"]) is int


@pytest.mark.parametrize(("name", "value"), [("days", "3"), ("ratio", "0.5"), ("detailed", "true")])
def test_strings_are_never_coerced(name: str, value: str) -> None:
    assert len(problems(WEATHER, {"city": "x", name: value})) == 1


def test_enum_membership() -> None:
    assert problems(WEATHER, {"city": "x", "unit": "kelvin", "mode": "verbose"}) == [
        'argument \'unit\' must be one of "celsius", "fahrenheit", got "kelvin" (string)',
        'argument \'mode\' must be one of "brief", "full", got "verbose" (string)',
    ]
    assert validate_arguments(WEATHER, {"city": "x", "unit": "fahrenheit"}, tool_name="t")[
        "unit"
    ] == ("fahrenheit")


def test_integer_enum_accepts_integral_float_but_not_bool() -> None:
    schema = {
        "type": "object",
        "properties": {"level": annotation_schema(Literal[1, 2])},
        "additionalProperties": False,
    }
    assert same_json(validate_arguments(schema, {"level": 2.0}, tool_name="t"), {"level": 2})
    assert problems(schema, {"level": True}) == [
        "argument 'level' must be one of 1, 2, got true (boolean)"
    ]


def test_array_items_are_checked_with_their_position() -> None:
    assert problems(WEATHER, {"city": "x", "hours": [1, "2", 3.5, None]}) == [
        "argument 'hours[1]' must be an integer, got \"2\" (string)",
        "argument 'hours[2]' must be an integer, got 3.5 (number)",
        "argument 'hours[3]' must be an integer, got null",
    ]


def test_dict_values_are_checked_with_their_key() -> None:
    assert problems(WEATHER, {"city": "x", "limits": {"max": "high"}}) == [
        "argument 'limits[\"max\"]' must be an integer, got \"high\" (string)"
    ]


def test_null_only_where_optional() -> None:
    assert validate_arguments(WEATHER, {"city": "x", "note": None}, tool_name="t")["note"] is None
    assert problems(WEATHER, {"city": None}) == ["argument 'city' must be a string, got null"]
    assert problems(WEATHER, {"city": "x", "note": 5}) == [
        "argument 'note' must be a string or null, got 5 (integer)"
    ]


def test_optional_container_reports_the_inner_problem() -> None:
    schema = {
        "type": "object",
        "properties": {"ids": annotation_schema(Optional[list[int]])},
        "additionalProperties": False,
    }
    assert problems(schema, {"ids": [1, "x"]}) == [
        "argument 'ids[1]' must be an integer, got \"x\" (string)"
    ]


def test_all_problems_are_reported_and_close_names_suggested() -> None:
    found = problems(WEATHER, {"citty": "x", "days": "2", "unit": 1})
    assert found == [
        "unexpected argument 'citty' (did you mean 'city'?)",
        "argument 'days' must be an integer, got \"2\" (string)",
        'argument \'unit\' must be one of "celsius", "fahrenheit", got 1 (integer)',
        "missing required argument 'city'",
    ]


@pytest.mark.parametrize(
    ("arguments", "shown"),
    [([1, 2], "[1, 2] (array)"), ("city", '"city" (string)'), (None, "null"), (7, "7 (integer)")],
)
def test_arguments_must_be_an_object(arguments: object, shown: str) -> None:
    assert problems(WEATHER, arguments) == [
        f"the arguments must be a JSON object mapping argument names to values, got {shown}"
    ]


def test_long_values_are_shortened_in_messages() -> None:
    [problem] = problems(WEATHER, {"city": "x", "days": "y" * 500})
    assert len(problem) < 120 and problem.endswith("… (string)")


def test_no_parameters_schema() -> None:
    schema = {"type": "object", "properties": {}, "required": [], "additionalProperties": False}
    assert validate_arguments(schema, {}, tool_name="ping") == {}
    with pytest.raises(ToolArgumentError, match=r"Expected arguments: none \(call it with \{\}\)"):
        validate_arguments(schema, {"x": 1}, tool_name="ping")


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "array"},
        [],
        {"type": "object", "properties": {"n": {"type": "integer", "minimum": 0}}},
        {"type": "object", "patternProperties": {}},
    ],
)
def test_unsupported_schemas_are_refused(schema: Any) -> None:
    with pytest.raises(ToolSchemaError):
        validate_arguments(schema, {}, tool_name="t")


# --- agreement with jsonschema, the independent oracle --------------------


def _assert_canonical(schema: Any, value: Any) -> None:
    """Integers are ints wherever the schema asks for an integer or an int enum value."""
    if not isinstance(schema, dict):
        return
    if "anyOf" in schema:
        for branch in schema["anyOf"]:
            if Draft202012Validator(branch).is_valid(value):
                _assert_canonical(branch, value)
                return
        raise AssertionError(f"{value!r} matches no branch of {schema}")
    if schema.get("type") == "integer":
        assert type(value) is int, value
    if "enum" in schema:
        assert any(same_json(value, option) for option in schema["enum"]), value
    if isinstance(value, list) and "items" in schema:
        for item in value:
            _assert_canonical(schema["items"], item)
    if isinstance(value, dict):
        for key, item in value.items():
            sub = schema.get("properties", {}).get(key, schema.get("additionalProperties"))
            _assert_canonical(sub, item)


def _loosely_equal(a: Any, b: Any) -> bool:
    """Equal up to integral floats having become ints."""
    if isinstance(a, float) and type(b) is int:
        return a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_loosely_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_loosely_equal(a[k], b[k]) for k in a)
    return bool(a == b)


def _agree(parameters: dict[str, Any], arguments: Any, tool_name: str) -> bool:
    """Assert validate_arguments agrees with jsonschema; return the verdict."""
    oracle = Draft202012Validator(parameters).is_valid(arguments)
    try:
        result = validate_arguments(parameters, arguments, tool_name=tool_name)
    except ToolArgumentError as error:
        assert not oracle, f"rejected valid arguments {arguments!r}: {error}"
        assert error.problems and all(error.problems)
        assert error.tool_name == tool_name and str(error).startswith(f"{tool_name}: ")
        return False
    assert oracle, f"accepted invalid arguments {arguments!r} for {parameters}"
    assert Draft202012Validator(parameters).is_valid(result)
    with_defaults = {
        name for name, prop in parameters["properties"].items() if "default" in prop
    }
    assert set(result) == set(arguments) | with_defaults
    for name, value in result.items():
        if name in arguments:
            assert _loosely_equal(arguments[name], value), (arguments[name], value)
        else:
            assert same_json(value, parameters["properties"][name]["default"])
    _assert_canonical(parameters, result)
    return True


@PROPERTY_SETTINGS
@given(data=st.data())
def test_validate_arguments_agrees_with_jsonschema(data: Any) -> None:
    spec: FunctionSpec = data.draw(function_specs())
    schema = function_schema(spec.build())
    arguments = data.draw(arguments_for(spec))
    _agree(schema["parameters"], arguments, spec.name)
    if isinstance(arguments, dict):
        # Also every single mistake on these arguments, tried exhaustively.
        for mutated in argument_mutations(spec, arguments):
            _agree(schema["parameters"], mutated, spec.name)


@PROPERTY_SETTINGS
@given(spec=type_specs(max_leaves=4), data=st.data())
def test_single_values_agree_with_jsonschema(spec: Any, data: Any) -> None:
    # One required parameter, values from anywhere: the type's own values,
    # corrupted ones and arbitrary JSON.
    parameters = {
        "type": "object",
        "properties": {"x": annotation_schema(spec.annotation)},
        "required": ["x"],
        "additionalProperties": False,
    }
    value = data.draw(
        st.one_of(spec.values, spec.values.flatmap(corrupt), json_values()), label="value"
    )
    for candidate in [value, *mutations(value)]:
        _agree(parameters, {"x": candidate}, "t")


@PROPERTY_SETTINGS
@given(spec=type_specs(max_leaves=4), data=st.data())
def test_values_of_the_type_are_accepted(spec: Any, data: Any) -> None:
    parameters = {
        "type": "object",
        "properties": {"x": annotation_schema(spec.annotation)},
        "required": ["x"],
        "additionalProperties": False,
    }
    assert _agree(parameters, {"x": data.draw(spec.values, label="value")}, "t")


def test_the_generated_arguments_are_a_mix_of_valid_and_invalid() -> None:
    # Guards the property test above against generating only one kind.
    verdicts: list[bool] = []

    @settings(max_examples=60, deadline=None, database=None, derandomize=True)
    @given(data=st.data())
    def collect(data: Any) -> None:
        spec = data.draw(function_specs())
        parameters = function_schema(spec.build())["parameters"]
        verdicts.append(Draft202012Validator(parameters).is_valid(data.draw(arguments_for(spec))))

    collect()
    assert 0.2 < sum(verdicts) / len(verdicts) < 0.8, sum(verdicts)
