"""GBNF grammars that constrain what llama.cpp may write: a tool call that parses and matches its tool's
schema, or JSON of a given schema.

Built from JSON schemas with llama-cpp-python's converter; any runtime with
GBNF support can use them. How the llama.cpp backend chooses to constrain is
explained in :mod:`course.backends.llama_cpp`.
"""

from __future__ import annotations

import json
import re

from .toolcall_text import ANSWER_PREFIX, CALL_PREFIX, call_schema


def schema_grammar_text(schema: dict) -> str:
    """GBNF text for ``schema`` via llama-cpp-python's converter (its root rule is ``root``)."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    return json_schema_to_gbnf(json.dumps(schema), prop_order=["name", "arguments"])


_LITERAL = re.compile(r'"(?:\\.|[^"\\])*"|\[(?:\\.|[^\]\\])*\]')
_RULE = re.compile(r"^([A-Za-z0-9-]+) ::=", re.M)


def prefix_rules(grammar: str, prefix: str) -> str:
    """Rename every rule of ``grammar`` to ``prefix + name`` so several grammars can be merged.

    Names are replaced only outside string literals and character classes.
    """
    names = set(_RULE.findall(grammar))
    word = re.compile(r"(?<![A-Za-z0-9-])(" + "|".join(sorted(map(re.escape, names), key=len, reverse=True)) + r")(?![A-Za-z0-9-])")
    out, last = [], 0
    for lit in _LITERAL.finditer(grammar):
        out.append(word.sub(lambda m: prefix + m.group(1), grammar[last:lit.start()]))
        out.append(lit.group(0))
        last = lit.end()
    out.append(word.sub(lambda m: prefix + m.group(1), grammar[last:]))
    return "".join(out)


def tool_call_grammar_text(tools: list[dict], *, allow_answer: bool, tagged: bool) -> str:
    """GBNF that makes every tool call valid JSON matching its tool's schema.

    ``tagged`` (templates with native tools, such as Qwen's): a call is
    ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>`` and a plain answer
    (when ``allow_answer``) may not begin with ``{`` or ``<``.

    Otherwise the reply starts with a decision, as llama.cpp's
    ``chatml-function-calling`` format does: ``message:`` then free text, or
    ``functions.<name>:`` then that tool's arguments as JSON.
    """
    if tagged:
        body = schema_grammar_text(call_schema(tools)).replace("root ::=", "call ::=", 1)
        root = 'root ::= [ \\n]* "<tool_call>" [ \\n]* call [ \\n]* "</tool_call>"'
        if allow_answer:
            root += " | answer\nanswer ::= [^{<\\x00 \\t\\n] [^\\x00]*"
        return root + "\n" + body
    alternatives, bodies = [], []
    for i, spec in enumerate(tools):
        fn = spec["function"]
        params = fn.get("parameters") or {"type": "object", "properties": {}}
        bodies.append(prefix_rules(schema_grammar_text(params), f"t{i}-"))
        alternatives.append(f'"{CALL_PREFIX}{fn["name"]}:" [ \\n]* t{i}-root')
    if allow_answer:
        alternatives.insert(0, f'"{ANSWER_PREFIX}" [^\\x00]*')
    return "root ::= " + " | ".join(alternatives) + "\n" + "\n".join(bodies)
