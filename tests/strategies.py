"""Hypothesis strategies for tools: random type hints, signatures and arguments.

Reusable by any test that needs random tools:

* :func:`type_specs` draws a supported type hint (``list[Optional[E_ab12]]``)
  together with its source text and strategies for values of that type;
* :func:`function_specs` draws a whole tool definition (name, docstring,
  parameters with random types and defaults); :meth:`FunctionSpec.build`
  turns it into a real function, either through ``__signature__`` or by
  ``exec`` of source that uses ``from __future__ import annotations``;
* :func:`arguments_for` draws the arguments a model might send for a
  function: often valid, often broken in the ways models break them (wrong
  types, bools for ints, integral floats, missing and extra arguments).
"""

from __future__ import annotations

import enum
import hashlib
import inspect
import keyword
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, List, Literal, Optional

from hypothesis import strategies as st

__all__ = [
    "TypeSpec",
    "ParamSpec",
    "FunctionSpec",
    "json_values",
    "identifiers",
    "enum_classes",
    "type_specs",
    "function_specs",
    "arguments_for",
    "near_miss_options",
    "near_misses",
    "mutations",
    "argument_mutations",
    "corrupt",
    "to_json",
    "same_json",
]

_WORDS = (
    "return the current time weather city in a an of for given name list "
    "value number count unit temperature search query result user file"
).split()


@dataclass
class TypeSpec:
    """A supported type hint, how to write it, and what values it takes.

    Attributes:
        annotation: The type hint object, e.g. ``list[int]``.
        source: The same hint as source text, e.g. ``"list[int]"``.
        names: Globals the source needs (the generated Enum classes).
        values: Strategy for valid JSON values, as a model would send them
            (Enum *values*, integral floats for ints).
        defaults: Strategy for valid Python default values (Enum *members*).
    """

    annotation: Any
    source: str
    names: dict[str, Any]
    values: st.SearchStrategy[Any]
    defaults: st.SearchStrategy[Any]


def json_values(max_leaves: int = 6) -> st.SearchStrategy[Any]:
    """Any JSON value, biased towards the near misses models produce."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**40), 2**40),
        st.integers(-5, 5).map(float),  # integral floats
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=6),
        st.integers(-5, 5).map(str),  # numbers in strings
    )
    return st.recursive(
        scalars,
        lambda children: st.lists(children, max_size=3)
        | st.dictionaries(st.text(max_size=4), children, max_size=3),
        max_leaves=max_leaves,
    )


def identifiers(max_size: int = 10) -> st.SearchStrategy[str]:
    """Python identifiers usable as parameter and tool names (no keywords)."""
    return st.from_regex(rf"[a-z_][a-z0-9_]{{0,{max_size - 1}}}", fullmatch=True).filter(
        lambda name: not keyword.iskeyword(name) and not keyword.issoftkeyword(name)
    )


def _ints() -> st.SearchStrategy[Any]:
    return st.integers(-(2**40), 2**40) | st.integers(-1000, 1000).map(float)


_LEAVES = [
    TypeSpec(str, "str", {}, st.text(max_size=8), st.text(max_size=8)),
    TypeSpec(int, "int", {}, _ints(), st.integers(-1000, 1000)),
    TypeSpec(
        float,
        "float",
        {},
        st.floats(allow_nan=False, allow_infinity=False) | st.integers(-1000, 1000),
        st.floats(allow_nan=False, allow_infinity=False) | st.integers(-10, 10),
    ),
    TypeSpec(bool, "bool", {}, st.booleans(), st.booleans()),
]


@st.composite
def enum_classes(draw: st.DrawFn) -> type[enum.Enum]:
    """An Enum (or StrEnum / IntEnum) class with 1-4 string or integer values."""
    if draw(st.booleans()):
        values: list[Any] = draw(st.lists(st.text(max_size=6), min_size=1, max_size=4, unique=True))
        base = draw(st.sampled_from([enum.Enum, enum.StrEnum]))
    else:
        values = draw(st.lists(st.integers(-50, 50), min_size=1, max_size=4, unique=True))
        base = draw(st.sampled_from([enum.Enum, enum.IntEnum]))
    # A name derived from the content: equal enums get equal names, so the
    # generated source stays reproducible.
    digest = hashlib.sha1(repr((base.__name__, values)).encode()).hexdigest()[:8]
    members = [(f"M{i}", value) for i, value in enumerate(values)]
    return base(f"E_{digest}", members)  # type: ignore[call-overload,no-any-return]


def _enum_spec(cls: type[enum.Enum]) -> TypeSpec:
    values = [member.value for member in cls]
    as_json = st.sampled_from(values)
    if isinstance(values[0], int):
        as_json = as_json | st.sampled_from(values).map(float)
    return TypeSpec(cls, cls.__name__, {cls.__name__: cls}, as_json, st.sampled_from(list(cls)))


_literal_values = st.one_of(st.text(max_size=5), st.integers(-5, 5), st.booleans(), st.none())


def _literal_spec(values: list[Any]) -> TypeSpec:
    annotation = Literal[tuple(values)]  # type: ignore[valid-type]
    source = f"Literal[{', '.join(repr(value) for value in values)}]"
    as_json = st.sampled_from(values)
    ints = [v for v in values if type(v) is int]
    if ints:
        as_json = as_json | st.sampled_from(ints).map(float)
    return TypeSpec(annotation, source, {}, as_json, st.sampled_from(values))


def _leaf_specs() -> st.SearchStrategy[TypeSpec]:
    # Scalars get most of the weight: they are where type mistakes happen.
    bare_list = TypeSpec(list, "list", {}, st.lists(json_values(3), max_size=3), st.just([]))
    bare_dict = TypeSpec(
        dict,
        "dict",
        {},
        st.dictionaries(st.text(max_size=3), json_values(3), max_size=2),
        st.just({}),
    )
    literals = st.lists(
        _literal_values, min_size=1, max_size=4, unique_by=lambda v: (type(v), v)
    ).map(_literal_spec)
    return st.one_of(
        st.sampled_from(_LEAVES),
        st.sampled_from(_LEAVES),
        enum_classes().map(_enum_spec),
        literals,
        st.sampled_from([bare_list, bare_dict]),
    )


def _list_of(inner: TypeSpec, typing_list: bool) -> TypeSpec:
    return TypeSpec(
        List[inner.annotation] if typing_list else list[inner.annotation],  # noqa: UP006
        f"{'List' if typing_list else 'list'}[{inner.source}]",
        inner.names,
        st.lists(inner.values, max_size=3),
        st.lists(inner.defaults, max_size=2),
    )


def _dict_of(inner: TypeSpec) -> TypeSpec:
    return TypeSpec(
        dict[str, inner.annotation],
        f"dict[str, {inner.source}]",
        inner.names,
        st.dictionaries(st.text(max_size=4), inner.values, max_size=3),
        st.dictionaries(st.text(max_size=4), inner.defaults, max_size=2),
    )


def _optional(inner: TypeSpec, pipe: bool) -> TypeSpec:
    if pipe:
        annotation, source = inner.annotation | None, f"{inner.source} | None"
    else:
        annotation, source = Optional[inner.annotation], f"Optional[{inner.source}]"  # noqa: UP007
    return TypeSpec(
        annotation, source, inner.names, st.none() | inner.values, st.none() | inner.defaults
    )


def type_specs(max_leaves: int = 3) -> st.SearchStrategy[TypeSpec]:
    """Supported type hints, nested: lists, dicts and Optionals of anything supported.

    About half are plain leaves (``int``, an Enum, a Literal ...).
    """
    return _leaf_specs() | st.recursive(
        _leaf_specs(),
        lambda inner: st.one_of(
            st.builds(_list_of, inner, st.booleans()),
            inner.map(_dict_of),
            st.builds(_optional, inner, st.booleans()),
        ),
        max_leaves=max_leaves,
    )


_NO_DEFAULT = object()


@dataclass
class ParamSpec:
    """One generated parameter."""

    name: str
    type: TypeSpec
    default: Any = _NO_DEFAULT
    description: str | None = None

    @property
    def has_default(self) -> bool:
        return self.default is not _NO_DEFAULT


@dataclass
class FunctionSpec:
    """A generated tool definition; :meth:`build` makes it a real function."""

    name: str
    summary: str
    params: list[ParamSpec]
    doc_style: str  # "google" or "rest"
    names: dict[str, Any] = field(default_factory=dict)

    @property
    def docstring(self) -> str:
        lines = [self.summary, ""]
        documented = [p for p in self.params if p.description]
        if documented and self.doc_style == "google":
            lines.append("Args:")
            for p in documented:
                assert p.description is not None
                first, _, rest = p.description.partition(" ")
                lines.append(f"    {p.name}: {first}")
                if rest:  # exercise continuation lines
                    lines.append(f"        {rest}")
        else:
            for p in documented:
                lines.append(f":param {p.name}: {p.description}")
        lines.append("")
        return "\n".join(lines)

    def build(self, *, use_exec: bool = False) -> Callable[..., Any]:
        """Make the function. It returns its keyword arguments as a dict.

        ``use_exec=False`` sets ``__signature__``/``__annotations__`` on a
        ``**kwargs`` function; ``use_exec=True`` compiles generated source
        under ``from __future__ import annotations`` (string annotations).
        """
        return self._build_exec() if use_exec else self._build_signature()

    def _build_signature(self) -> Callable[..., Any]:
        def function(**kwargs: Any) -> dict[str, Any]:
            return kwargs

        parameters = [
            inspect.Parameter(
                p.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=p.default if p.has_default else inspect.Parameter.empty,
                annotation=p.type.annotation,
            )
            for p in self.params
        ]
        function.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        function.__annotations__ = {p.name: p.type.annotation for p in self.params}
        function.__name__ = function.__qualname__ = self.name
        function.__doc__ = self.docstring
        return function

    def _build_exec(self) -> Callable[..., Any]:
        namespace: dict[str, Any] = {"Optional": Optional, "List": List, "Literal": Literal}
        signature = []
        for p in self.params:
            namespace.update(p.type.names)
            text = f"{p.name}: {p.type.source}"
            if p.has_default:
                namespace[f"_default_{p.name}"] = p.default
                text += f" = _default_{p.name}"
            signature.append(text)
        star = "*, " if signature else ""
        source = (
            "from __future__ import annotations\n"
            f"def {self.name}({star}{', '.join(signature)}) -> dict:\n"
            "    return dict(locals())\n"
        )
        exec(compile(source, f"<tool {self.name}>", "exec"), namespace)
        function = namespace[self.name]
        function.__doc__ = self.docstring
        assert isinstance(next(iter(function.__annotations__.values()), ""), str)
        return typing.cast(Callable[..., Any], function)


_sentences = st.lists(st.sampled_from(_WORDS), min_size=1, max_size=6).map(
    lambda words: " ".join(words).capitalize() + "."
)


@st.composite
def _param_specs(draw: st.DrawFn, name: str) -> ParamSpec:
    spec = draw(type_specs())
    default = draw(spec.defaults) if draw(st.booleans()) else _NO_DEFAULT
    description = draw(st.none() | _sentences)
    return ParamSpec(name, spec, default, description)


_RESERVED = frozenset({"str", "int", "float", "bool", "list", "dict", "locals"})


@st.composite
def function_specs(draw: st.DrawFn, max_params: int = 5) -> FunctionSpec:
    """A random tool: name, summary, 0-``max_params`` typed parameters, docstring."""
    names = draw(st.lists(identifiers(), max_size=max_params, unique=True))
    params = [draw(_param_specs(name)) for name in names]
    # The exec'd module defines the function as a global: it must not shadow
    # a name its annotations use.
    name = draw(
        identifiers(12).filter(lambda n: n not in _RESERVED and not n.startswith("_default_"))
    )
    return FunctionSpec(
        name=name,
        summary=draw(_sentences),
        params=params,
        doc_style=draw(st.sampled_from(["google", "rest"])),
    )


def near_miss_options(value: Any) -> list[Any]:
    """Values a model might send instead of ``value``: same meaning, wrong JSON type.

    ``3`` -> ``true``, ``3.5``, ``"3"``, ``null``; ``true`` -> ``1``,
    ``"true"``; ``"x"`` -> ``["x"]``, ``0``; and so on. Some are valid for
    some schemas (``3.0`` is an integer): the oracle decides, not this list.
    """
    if isinstance(value, bool):
        return [int(value), float(value), str(value).lower(), None]
    if isinstance(value, int):
        return [bool(value % 2), value + 0.5, str(value), float(value), None, [value]]
    if isinstance(value, float):
        return [str(value), value > 0, None, int(value), [value]]
    if isinstance(value, str):
        return [0, True, None, [value], {"value": value}, f"{value}x"]
    if value is None:
        return [0, 0.0, "", False, "null", []]
    if isinstance(value, list):
        return [{}, "[]", None, [*value, None], value[:1] * 2]
    return [[], "{}", None, [value]]


def near_misses(value: Any) -> st.SearchStrategy[Any]:
    """One of :func:`near_miss_options` for ``value``."""
    return st.sampled_from(near_miss_options(value))


def mutations(value: Any) -> list[Any]:
    """Every copy of ``value`` with exactly one part replaced by a near miss.

    Exhaustive rather than random, so that a rare mistake (``true`` for an
    integer three levels down) is tried whenever the value has such a part.
    """
    found = near_miss_options(value)
    if isinstance(value, list):
        for i, item in enumerate(value):
            found += [[*value[:i], new, *value[i + 1 :]] for new in mutations(item)]
    elif isinstance(value, dict):
        for key, item in value.items():
            found += [{**value, key: new} for new in mutations(item)]
    return found


def argument_mutations(spec: FunctionSpec, arguments: dict[str, Any]) -> list[Any]:
    """Every single mistake on valid ``arguments``: a value, a missing or an extra key."""
    found: list[Any] = [
        {**arguments, key: new} for key, value in arguments.items() for new in mutations(value)
    ]
    found += [{k: v for k, v in arguments.items() if k != key} for key in arguments]
    taken = {p.name for p in spec.params}
    found.append({**arguments, next(f"x{i}" for i in range(99) if f"x{i}" not in taken): 1})
    return found


def corrupt(value: Any) -> st.SearchStrategy[Any]:
    """``value`` with one part (maybe the whole) replaced by a near miss or any JSON value."""
    replace_whole = near_misses(value) | json_values(3)
    if isinstance(value, list) and value:
        return st.one_of(
            replace_whole,
            st.integers(0, len(value) - 1).flatmap(
                lambda i: corrupt(value[i]).map(lambda new: [*value[:i], new, *value[i + 1 :]])
            ),
            json_values(2).map(lambda extra: [*value, extra]),
        )
    if isinstance(value, dict) and value:
        return st.one_of(
            replace_whole,
            st.sampled_from(sorted(value)).flatmap(
                lambda key: corrupt(value[key]).map(lambda new: {**value, key: new})
            ),
        )
    return replace_whole


@st.composite
def arguments_for(draw: st.DrawFn, spec: FunctionSpec) -> Any:
    """Arguments a model might send for ``spec``: valid about half the time."""
    if draw(st.integers(0, 19)) == 0:  # not even an object
        return draw(st.one_of(st.lists(json_values(2), max_size=2), st.text(max_size=5), st.none()))
    arguments: dict[str, Any] = {}
    for p in spec.params:
        # Optional parameters are often left out; required ones rarely.
        leave_out = draw(st.integers(0, 9)) < (5 if p.has_default else 1)
        if not leave_out:
            arguments[p.name] = draw(p.type.values)
    mistakes = draw(st.integers(0, 3)) if draw(st.booleans()) else 0
    for _ in range(mistakes):
        kind = draw(st.sampled_from(["corrupt", "extra", "drop"]))
        if kind == "corrupt" and arguments:
            key = draw(st.sampled_from(sorted(arguments)))
            arguments[key] = draw(corrupt(arguments[key]))
        elif kind == "extra":
            arguments[draw(identifiers(6))] = draw(json_values(2))
        elif kind == "drop" and arguments:
            del arguments[draw(st.sampled_from(sorted(arguments)))]
    return arguments


def to_json(value: Any) -> Any:
    """A Python default as the schema should show it: Enum members become values."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    return value


def same_json(a: Any, b: Any) -> bool:
    """Strict equality: same types all the way down (``1 != 1.0 != True``)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    return bool(a == b)
