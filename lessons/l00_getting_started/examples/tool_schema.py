"""A typed Python function becomes a tool: its signature and docstring are the schema."""

import json
from typing import Literal

from course.tools import ToolArgumentError, tool
from course.tools.clock import get_current_time


@tool
def convert_temperature(
    value: float, to: Literal["celsius", "fahrenheit"] = "celsius", places: int | None = None
) -> float:
    """Convert a temperature between Celsius and Fahrenheit.

    Args:
        value: The temperature to convert.
        to: The unit to convert to.
        places: Decimal places to round to; None keeps full precision.
    """
    result = (value - 32) * 5 / 9 if to == "celsius" else value * 9 / 5 + 32
    return result if places is None else round(result, places)


# What the model is given: name, description and a JSON schema of the arguments.
print(json.dumps(get_current_time.spec(), indent=2))
print(json.dumps(convert_temperature.parameters["properties"], indent=2))

# A tool is still a function ...
print(convert_temperature(212.0))
# ... and invoke() runs what a model wrote: JSON text, parsed and validated first.
print(convert_temperature.invoke('{"value": 98.6, "to": "celsius", "places": 1}'))

for arguments in ['{"value": "hot"}', '{"value": 100, "to": "kelvin"}', '{"value": 10']:
    try:
        convert_temperature.invoke(arguments)
    except ToolArgumentError as exc:
        print("ToolArgumentError:", exc)
