"""The Tool class and the @tool decorator: spec, direct calls, invoke."""

from __future__ import annotations

import enum
import inspect
import json
import pydoc
from typing import Any, Literal, Optional, get_args, get_origin

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from course.tools import (
    Tool,
    ToolArgumentError,
    ToolSchemaError,
    function_schema,
    tool,
)

try:
    from strategies import FunctionSpec, function_specs
except ImportError:  # tests/ made a package: import it as one
    from tests.strategies import FunctionSpec, function_specs


class Unit(enum.Enum):
    CELSIUS = "celsius"
    FAHRENHEIT = "fahrenheit"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


@tool
def get_current_time(timezone: str = "UTC") -> str:
    """Return the current time in a timezone.

    Args:
        timezone: IANA timezone name, e.g. "Europe/Paris".
    """
    return f"12:00 in {timezone}"


@tool(name="forecast", description="Weather forecast for a city.")
def weather(
    city: str,
    days: int = 1,
    unit: Unit = Unit.CELSIUS,
    levels: list[Level] = [],  # noqa: B006 - a default, never mutated
    fallback: Optional[Unit] = None,
    by_day: dict[str, Unit] = {},  # noqa: B006
) -> dict[str, Any]:
    """Not used as the description: the decorator was given one.

    Args:
        city: The city.
    """
    return {
        "city": city,
        "days": days,
        "unit": unit,
        "levels": levels,
        "fallback": fallback,
        "by_day": by_day,
    }


@tool
def divide(a: float, b: float) -> float:
    """Divide a by b."""
    return a / b


def test_bare_decorator_builds_a_tool() -> None:
    assert isinstance(get_current_time, Tool)
    assert get_current_time.name == "get_current_time"
    assert get_current_time.description == "Return the current time in a timezone."
    assert get_current_time.parameters == function_schema(get_current_time.func)["parameters"]
    assert get_current_time.parameters["properties"]["timezone"]["default"] == "UTC"


def test_spec_is_the_openai_tools_format() -> None:
    assert get_current_time.spec() == {
        "type": "function",
        "function": {
            "name": "get_current_time",
            "description": "Return the current time in a timezone.",
            "parameters": {
                "type": "object",
                "properties": {
                    "timezone": {
                        "type": "string",
                        "description": 'IANA timezone name, e.g. "Europe/Paris".',
                        "default": "UTC",
                    }
                },
                "required": [],
                "additionalProperties": False,
            },
        },
    }
    json.dumps(get_current_time.spec())  # serialisable as is


def test_spec_returns_a_copy() -> None:
    spec = get_current_time.spec()
    spec["function"]["parameters"]["properties"].clear()
    assert "timezone" in get_current_time.parameters["properties"]


def test_decorator_with_options() -> None:
    assert weather.name == "forecast"
    assert weather.description == "Weather forecast for a city."
    assert weather.spec()["function"]["name"] == "forecast"
    assert weather.parameters["properties"]["city"]["description"] == "The city."
    assert weather.parameters["required"] == ["city"]


def test_empty_parentheses_and_explicit_construction() -> None:
    def ping() -> str:
        """Check the connection."""
        return "pong"

    assert tool()(ping).name == "ping"
    assert Tool(ping, name="ping2").name == "ping2"
    assert Tool(ping).invoke("{}") == "pong"


def test_direct_call_is_the_plain_function() -> None:
    assert get_current_time("Asia/Tokyo") == "12:00 in Asia/Tokyo"
    assert get_current_time() == "12:00 in UTC"
    # No validation or conversion on a direct call: it is just Python.
    assert weather("Oslo", unit="kelvin")["unit"] == "kelvin"


def test_wrapper_metadata_is_kept() -> None:
    assert get_current_time.__name__ == "get_current_time"
    assert get_current_time.__doc__ is not None
    assert get_current_time.__doc__.startswith("Return the current time in a timezone.")
    assert get_current_time.__wrapped__ is get_current_time.func  # type: ignore[attr-defined]
    assert list(inspect.signature(get_current_time).parameters) == ["timezone"]
    assert "IANA timezone name" in pydoc.render_doc(get_current_time)
    assert "get_current_time" in repr(get_current_time)


def test_invoke_json_text() -> None:
    assert get_current_time.invoke('{"timezone": "Europe/Paris"}') == "12:00 in Europe/Paris"


def test_invoke_fills_defaults() -> None:
    assert get_current_time.invoke("{}") == "12:00 in UTC"
    assert get_current_time.invoke({}) == "12:00 in UTC"
    assert weather.invoke({"city": "Oslo"}) == {
        "city": "Oslo",
        "days": 1,
        "unit": Unit.CELSIUS,
        "levels": [],
        "fallback": None,
        "by_day": {},
    }


def test_blank_text_means_no_arguments() -> None:
    assert get_current_time.invoke("  ") == "12:00 in UTC"
    with pytest.raises(ToolArgumentError, match="missing required argument 'city'"):
        weather.invoke("")


def test_invoke_converts_enums_and_integral_floats() -> None:
    result = weather.invoke(
        '{"city": "Oslo", "days": 2.0, "unit": "fahrenheit", "levels": [2, 1.0],'
        ' "fallback": "celsius", "by_day": {"mon": "fahrenheit"}}'
    )
    assert result == {
        "city": "Oslo",
        "days": 2,
        "unit": Unit.FAHRENHEIT,
        "levels": [Level.HIGH, Level.LOW],
        "fallback": Unit.CELSIUS,
        "by_day": {"mon": Unit.FAHRENHEIT},
    }
    assert type(result["days"]) is int
    assert all(type(level) is Level for level in result["levels"])


def test_validate_does_not_call_the_function() -> None:
    calls = []

    @tool
    def record(value: Unit) -> None:
        """Record a value."""
        calls.append(value)

    assert record.validate({"value": "celsius"}) == {"value": Unit.CELSIUS}
    assert calls == []


def test_invoke_malformed_json_quotes_a_prefix() -> None:
    with pytest.raises(ToolArgumentError) as caught:
        get_current_time.invoke('{"timezone": "UTC",}')
    error = caught.value
    assert error.tool_name == "get_current_time"
    [problem] = error.problems
    assert problem.startswith("the arguments are not valid JSON (")
    assert "line 1 column 20" in problem
    assert problem.endswith("""'{"timezone": "UTC",}'""")
    assert 'Expected arguments: timezone (string, optional, default "UTC")' in str(error)


def test_long_malformed_json_is_shortened() -> None:
    text = '{"timezone": "' + "x" * 1000
    with pytest.raises(ToolArgumentError) as caught:
        get_current_time.invoke(text)
    assert len(str(caught.value)) < 300
    assert text[:60] in str(caught.value)


def test_invoke_rejects_nan() -> None:
    with pytest.raises(ToolArgumentError, match="NaN is not valid JSON"):
        divide.invoke('{"a": NaN, "b": 1}')


@pytest.mark.parametrize(
    ("text", "shown"),
    [("[1, 2]", "[1, 2] (array)"), ('"UTC"', '"UTC" (string)'), ("null", "null")],
)
def test_invoke_non_object_json(text: str, shown: str) -> None:
    with pytest.raises(ToolArgumentError) as caught:
        get_current_time.invoke(text)
    assert caught.value.problems == [
        f"the arguments must be a JSON object mapping argument names to values, got {shown}"
    ]


def test_invoke_wrong_types_and_unknown_arguments() -> None:
    with pytest.raises(ToolArgumentError) as caught:
        weather.invoke('{"city": 3, "days": true, "unit": "kelvin", "town": "Oslo"}')
    assert caught.value.tool_name == "forecast"
    assert caught.value.problems == [
        "argument 'city' must be a string, got 3 (integer)",
        "argument 'days' must be an integer, got true (boolean)",
        'argument \'unit\' must be one of "celsius", "fahrenheit", got "kelvin" (string)',
        "unexpected argument 'town'",
    ]
    assert str(caught.value).startswith("forecast: argument 'city' must be a string")


def test_function_errors_are_not_wrapped() -> None:
    with pytest.raises(ZeroDivisionError):
        divide.invoke('{"a": 1, "b": 0}')
    assert divide.invoke('{"a": 1, "b": 4}') == 0.25


def test_bad_definitions_fail_at_decoration() -> None:
    with pytest.raises(ToolSchemaError, match="has no docstring"):

        @tool
        def undocumented(x: int) -> int:
            return x

    with pytest.raises(ToolSchemaError, match=r"\*names is not supported"):

        @tool(name="greet")
        def greet(*names: str) -> str:
            """Greet people."""
            return ""


def test_description_option_replaces_a_missing_docstring() -> None:
    @tool(description="Double a number.")
    def double(x: int) -> int:
        return 2 * x

    assert double.description == "Double a number."
    assert double.invoke('{"x": 2.0}') == 4


# --- properties -----------------------------------------------------------


def _conforms(annotation: Any, value: Any) -> bool:
    """Whether a value has exactly the Python type the function declared."""
    origin, args = get_origin(annotation), get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return type(value) is annotation
    if annotation is bool:
        return type(value) is bool
    if annotation is int:
        return type(value) is int
    if annotation is float:
        return type(value) in (int, float)
    if annotation is str:
        return type(value) is str
    if origin is Literal:
        return any(type(value) is type(option) and value == option for option in args)
    if annotation is list or annotation is dict:
        return type(value) is annotation
    if origin is list:
        return type(value) is list and all(_conforms(args[0], item) for item in value)
    if origin is dict:
        return type(value) is dict and all(_conforms(args[1], item) for item in value.values())
    inner = [arg for arg in args if arg is not type(None)]
    return value is None or _conforms(inner[0], value)


@settings(max_examples=150, deadline=None)
@given(spec=function_specs(), data=st.data())
def test_invoke_passes_declared_python_types(spec: FunctionSpec, data: Any) -> None:
    func = spec.build()
    wrapped = tool(func)
    arguments = {
        p.name: data.draw(p.type.values, label=p.name)
        for p in spec.params
        if not p.has_default or data.draw(st.booleans(), label=f"give {p.name}")
    }
    assert Draft202012Validator(wrapped.parameters).is_valid(arguments)
    received = wrapped.invoke(json.dumps(arguments))
    assert set(received) == {p.name for p in spec.params}
    for p in spec.params:
        assert _conforms(p.type.annotation, received[p.name]), (p.type.source, received[p.name])
        if p.name not in arguments:
            assert received[p.name] == p.default
