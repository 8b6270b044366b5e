"""Reading a tool's description out of its docstring.

A model decides *when* to call a tool from its description and *how* to fill
each argument from the parameter descriptions. Writing them in the docstring
keeps one source of truth: the text a Python programmer reads with ``help()``
is the text the model reads in its prompt.

Two common docstring conventions are understood::

    def get_current_time(timezone: str = "UTC") -> str:
        \"\"\"Return the current time in a timezone.

        Args:
            timezone: IANA timezone name, e.g. "Europe/Paris".
                Continuation lines are joined to the description.
        \"\"\"

    def get_current_time(timezone: str = "UTC") -> str:
        \"\"\"Return the current time in a timezone.

        :param timezone: IANA timezone name, e.g. "Europe/Paris".
        \"\"\"

Google style also accepts the headers ``Arguments:`` and ``Parameters:`` (and
``Keyword Args:`` for keyword-only parameters). Other sections (``Returns:``,
``Raises:``, ``Example:`` ...) are skipped: the model does not need them.
"""

from __future__ import annotations

import inspect
import re
from typing import NamedTuple

__all__ = ["ParsedDocstring", "parse_docstring"]

# Google-style section headers: a known word on a line of its own, ending in
# a colon. Only known names count, so that prose such as "For example:" in the
# summary does not cut the description short.
_SECTION_NAMES = frozenset(
    {
        "Args", "Arguments", "Parameters", "Params",
        "Keyword Args", "Keyword Arguments", "Other Parameters",
        "Returns", "Return", "Yields", "Yield", "Raises", "Raise",
        "Warns", "Warning", "Warnings", "Example", "Examples",
        "Note", "Notes", "See Also", "Attributes", "Todo", "References",
    }
)  # fmt: skip
_PARAMETER_SECTIONS = frozenset(
    {"Args", "Arguments", "Parameters", "Params", "Keyword Args", "Keyword Arguments"}
)
_SECTION_RE = re.compile(r"^\s*([A-Z][A-Za-z ]*?)\s*:\s*$")
# "name: text", "name (str): text", "name (list[str], optional): text", "*args: text".
_GOOGLE_ENTRY_RE = re.compile(r"^\*{0,2}([A-Za-z_]\w*)\s*(?:\([^)]*\))?\s*:(.*)$")
# reST field lists start a section too (":param x:", ":returns:", ":raises E:").
_FIELD_RE = re.compile(r"^\s*:[A-Za-z]")
# ":param x: text" or ":param str x: text" (the optional word is the type).
_REST_PARAM_RE = re.compile(
    r"^\s*:(?:param|parameter|arg|argument|key|keyword)\s+(?:.+?\s+)?\*{0,2}([A-Za-z_]\w*)\s*:(.*)$"
)
# NumPy style underlines a header with dashes; only used to end the summary.
_UNDERLINE_RE = re.compile(r"^\s*-{3,}\s*$")


class ParsedDocstring(NamedTuple):
    """What :func:`parse_docstring` found.

    Attributes:
        summary: Everything before the first section, on one line.
        params: Parameter name -> description, each on one line.
    """

    summary: str
    params: dict[str, str]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _one_line(parts: list[str]) -> str:
    return " ".join(" ".join(parts).split())


def _is_section_start(lines: list[str], i: int) -> bool:
    line = lines[i]
    header = _SECTION_RE.match(line)
    if header and header.group(1) in _SECTION_NAMES:
        return True
    if _FIELD_RE.match(line):
        return True
    return i + 1 < len(lines) and bool(line.strip()) and bool(_UNDERLINE_RE.match(lines[i + 1]))


def parse_docstring(doc: str | None) -> ParsedDocstring:
    """Split a docstring into its summary and its parameter descriptions.

    The summary is all the text before the first section header, with runs of
    whitespace (line breaks included) collapsed to single spaces. Parameter
    descriptions come from a Google-style ``Args:`` section (continuation
    lines included) and from reST ``:param name: text`` fields.

    >>> parsed = parse_docstring('''Add two numbers.
    ...
    ... Args:
    ...     a: The first number.
    ...     b: The second
    ...         number.
    ... ''')
    >>> parsed.summary
    'Add two numbers.'
    >>> parsed.params
    {'a': 'The first number.', 'b': 'The second number.'}
    """
    if not doc:
        return ParsedDocstring("", {})
    lines = inspect.cleandoc(doc).splitlines()
    start = next((i for i in range(len(lines)) if _is_section_start(lines, i)), len(lines))
    summary = _one_line(lines[:start])

    params: dict[str, str] = {}
    i = start
    while i < len(lines):
        header = _SECTION_RE.match(lines[i])
        if header and header.group(1) in _PARAMETER_SECTIONS:
            i = _read_google_section(lines, i, params)
        elif _REST_PARAM_RE.match(lines[i]):
            i = _read_rest_field(lines, i, params)
        else:
            i += 1
    return ParsedDocstring(summary, params)


def _read_google_section(lines: list[str], header: int, params: dict[str, str]) -> int:
    """Read the entries under an ``Args:`` header; return the index after it."""
    header_indent = _indent(lines[header])
    entry_indent: int | None = None
    name = ""
    current: list[str] | None = None
    i = header + 1
    # The section goes on while lines are blank or indented under the header.
    while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > header_indent):
        line = lines[i]
        i += 1
        if not line.strip():
            continue
        if entry_indent is None:
            entry_indent = _indent(line)
        entry = _GOOGLE_ENTRY_RE.match(line.strip()) if _indent(line) <= entry_indent else None
        if entry:
            name, current = entry.group(1), [entry.group(2)]
        elif current is not None:
            current.append(line)  # a continuation line, indented deeper
        else:
            continue  # text before the first entry: nothing to attach it to
        params[name] = _one_line(current)
    return i


def _read_rest_field(lines: list[str], start: int, params: dict[str, str]) -> int:
    """Read one ``:param name: text`` field and its indented continuation."""
    match = _REST_PARAM_RE.match(lines[start])
    assert match is not None
    field_indent = _indent(lines[start])
    parts = [match.group(2)]
    i = start + 1
    while (
        i < len(lines)
        and lines[i].strip()
        and _indent(lines[i]) > field_indent
        and not _FIELD_RE.match(lines[i])
    ):
        parts.append(lines[i])
        i += 1
    params[match.group(1)] = _one_line(parts)
    return i
