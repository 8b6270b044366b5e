"""Turning validated JSON values back into the Python types a tool declared.

JSON has no Enums: the schema asks the model for an Enum's *value*
(``"celsius"``), but the function was written for the member
(``Unit.CELSIUS``). After validation, :func:`from_json` walks the type hint
and the value together and rebuilds members, also inside lists, dicts and
``Optional``. Everything else already has the right Python type.
"""

from __future__ import annotations

import enum
import types
from typing import Annotated, Any, Union, get_args, get_origin

__all__ = ["from_json"]


def from_json(annotation: object, value: Any) -> Any:
    """Convert a *validated* JSON value to the type hint ``annotation``.

    >>> import enum
    >>> class Unit(enum.Enum):
    ...     CELSIUS = "celsius"
    >>> from_json(list[Unit], ["celsius"])
    [<Unit.CELSIUS: 'celsius'>]
    """
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return from_json(args[0], value)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return annotation(value)
    if origin is Union or origin is types.UnionType:
        if value is None:
            return None
        (inner,) = [arg for arg in args if arg is not type(None)]
        return from_json(inner, value)
    if origin is list and args:
        return [from_json(args[0], item) for item in value]
    if origin is dict and args:
        return {key: from_json(args[1], item) for key, item in value.items()}
    return value
