"""Task files for evaluating agents (lesson 11): one JSON object per line, checked when read.

A task says what a user asks and what a good agent does::

    {"id": "kiosk-001", "input": "Do you have electric kettles?", "category": "search",
     "expected_tools": [{"name": "search_products", "arguments": {"query": "kettle"}}],
     "answer_checks": {"contains_any": ["kettle"], "contains_all": [], "not_contains": []},
     "forbidden_tools": [], "must_refuse": false, "must_handoff": false, "hard": false}

- ``expected_tools``: calls the agent should make, in any order; a call
  matches when the name is equal and each argument given is matched by the
  agent's after :func:`normalise` (case, spaces, a plural ``s``; for text,
  every expected word present: ``kettle`` in ``electric kettles``);
  arguments left out do not matter;
- ``answer_checks``: words the final answer must hold (any of, all of) or
  must not hold, compared case-insensitively;
- ``forbidden_tools``: calls that fail the task whatever else happens;
- ``must_refuse``: the agent declines (diagnosis, dosage, someone else's
  data); ``must_handoff``: it calls its hand-off tool;
- ``hard``: a question a small model is expected to fail, for escalation.

:func:`load_tasks` reads a file and raises :class:`TaskFileError` listing every
problem with its line, so a broken file is fixed in one go.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KEYS = {"id": str, "input": str, "category": str, "expected_tools": list, "answer_checks": dict,
        "forbidden_tools": list, "must_refuse": bool, "must_handoff": bool, "hard": bool}
CHECK_KEYS = ("contains_any", "contains_all", "not_contains")


class TaskFileError(ValueError):
    """A task file with problems; ``problems`` lists each as ``line N: ...``."""

    def __init__(self, path: Path | str, problems: list[str]):
        self.path, self.problems = Path(path), problems
        shown = "\n".join(f"  {p}" for p in problems[:20]) + (f"\n  ... and {len(problems) - 20} more"
                                                               if len(problems) > 20 else "")
        super().__init__(f"{path}: {len(problems)} problem(s) in the task file:\n{shown}")


@dataclass(frozen=True)
class ExpectedCall:
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Task:
    id: str
    input: str
    category: str
    expected_tools: tuple[ExpectedCall, ...]
    contains_any: tuple[str, ...] = ()
    contains_all: tuple[str, ...] = ()
    not_contains: tuple[str, ...] = ()
    forbidden_tools: tuple[str, ...] = ()
    must_refuse: bool = False
    must_handoff: bool = False
    hard: bool = False


def public_tasks(agent: str) -> Path:
    """The shipped public task file of a reference agent (``kiosk`` or ``clinic``)."""
    from importlib import resources

    stem = {"kiosk": "kiosk", "clinic": "patient"}.get(agent)
    if stem is None:
        raise ValueError(f"unknown agent {agent!r}: the reference agents are kiosk and clinic")
    return Path(str(resources.files("course.capstone") / "data" / "tasks" / f"{stem}_public.jsonl"))


def task_problems(raw: Any, tools: set[str] | None = None) -> list[str]:
    """What is wrong with one decoded task (empty: nothing); ``tools``: the agent's tool names, when known."""
    if not isinstance(raw, dict):
        return [f"a task is a JSON object, got {type(raw).__name__}"]
    problems = []
    missing = [k for k in KEYS if k not in raw]
    if missing:
        problems.append(f"missing {', '.join(missing)}")
    extra = sorted(set(raw) - set(KEYS))
    if extra:
        problems.append(f"unknown key(s) {', '.join(extra)}: the keys are {', '.join(KEYS)}")
    for key, kind in KEYS.items():
        if key in raw and not isinstance(raw[key], kind):
            problems.append(f"{key} must be a {kind.__name__}, got {type(raw[key]).__name__}")
    if isinstance(raw.get("id"), str) and not raw["id"].strip():
        problems.append("id is empty")
    if isinstance(raw.get("input"), str) and not raw["input"].strip():
        problems.append("input is empty")
    for i, call in enumerate(raw.get("expected_tools") or [] if isinstance(raw.get("expected_tools"), list) else []):
        if not isinstance(call, dict) or not isinstance(call.get("name"), str) or \
                not isinstance(call.get("arguments", {}), dict) or set(call) - {"name", "arguments"}:
            problems.append(f"expected_tools[{i}] must be {{\"name\": str, \"arguments\": {{...}}}}")
        elif tools is not None and call["name"] not in tools:
            problems.append(f"expected_tools[{i}] names {call['name']!r}, not one of the agent's tools "
                            f"({', '.join(sorted(tools))})")
    checks = raw.get("answer_checks")
    if isinstance(checks, dict):
        for key in set(checks) - set(CHECK_KEYS):
            problems.append(f"answer_checks has unknown key {key!r}: use {', '.join(CHECK_KEYS)}")
        for key in CHECK_KEYS:
            value = checks.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
                problems.append(f"answer_checks.{key} must be a list of non-empty strings")
    forbidden = raw.get("forbidden_tools")
    if isinstance(forbidden, list):
        if not all(isinstance(v, str) for v in forbidden):
            problems.append("forbidden_tools must be a list of tool names")
        elif tools is not None and set(forbidden) - tools:
            problems.append(f"forbidden_tools names {', '.join(sorted(set(forbidden) - tools))}, not the agent's")
        expected = {c.get("name") for c in raw.get("expected_tools") or [] if isinstance(c, dict)}
        if expected & set(forbidden):
            problems.append(f"{', '.join(sorted(expected & set(forbidden)))} is both expected and forbidden")
    return problems


def make_task(raw: dict) -> Task:
    checks = raw["answer_checks"]
    return Task(raw["id"], raw["input"], raw["category"],
                tuple(ExpectedCall(c["name"], dict(c.get("arguments", {}))) for c in raw["expected_tools"]),
                tuple(checks.get("contains_any", [])), tuple(checks.get("contains_all", [])),
                tuple(checks.get("not_contains", [])), tuple(raw["forbidden_tools"]), raw["must_refuse"],
                raw["must_handoff"], raw["hard"])


def load_tasks(path: str | Path, *, tools: set[str] | None = None) -> list[Task]:
    """Every task of a JSON-lines file; :class:`TaskFileError` with every problem when any line is wrong."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TaskFileError(path, ["the file does not exist"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TaskFileError(path, [f"cannot be read as UTF-8 text: {exc}"]) from None
    problems, tasks, seen = [], [], {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {n}: not JSON ({exc.msg} at column {exc.colno})")
            continue
        found = task_problems(raw, tools)
        if found:
            problems.extend(f"line {n}: {p}" for p in found)
            continue
        if raw["id"] in seen:
            problems.append(f"line {n}: id {raw['id']!r} was used on line {seen[raw['id']]}")
            continue
        seen[raw["id"]] = n
        tasks.append(make_task(raw))
    if not tasks and not problems:
        problems.append("no tasks: the file is empty")
    if problems:
        raise TaskFileError(path, problems)
    return tasks


_SPACES = re.compile(r"\s+")


def _singular(word: str) -> str:
    if len(word) > 3 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def normalise(value: Any) -> Any:
    """A value as compared: text lower-cased, trimmed, spaces collapsed, each word singular; numbers as floats
    (``"12"`` is 12); lists and dicts element by element."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = _SPACES.sub(" ", value.strip().lower()).strip(" .!?")
        try:
            return float(text)
        except ValueError:
            return " ".join(_singular(w) for w in text.split(" "))
    if isinstance(value, (list, tuple)):
        return [normalise(v) for v in value]
    if isinstance(value, dict):
        return {str(k): normalise(v) for k, v in value.items()}
    return value


def value_matches(expected: Any, given: Any) -> bool:
    """Equal after normalising; for text, every word of the expected value among the given value's words
    (``"kettle"`` matches ``"electric kettles"``, not the other way round)."""
    want, got = normalise(expected), normalise(given)
    if isinstance(want, str) and isinstance(got, str):
        return set(want.split(" ")) <= set(got.split(" "))
    return want == got


def call_matches(expected: ExpectedCall, name: str, arguments: dict) -> bool:
    """The agent's call satisfies the expected one: same name, each expected argument matched by
    :func:`value_matches`; arguments the task leaves out do not matter."""
    if name != expected.name or not isinstance(arguments, dict):
        return False
    return all(k in arguments and value_matches(v, arguments[k]) for k, v in expected.arguments.items())


def tool_accuracy(expected: tuple[ExpectedCall, ...], calls: list[tuple[str, dict]]) -> float:
    """The share of expected calls the agent made (each made call counts for one expected call); 1.0 when none
    were expected and none were made, 0.0 when none were expected but some were."""
    if not expected:
        return 1.0 if not calls else 0.0
    left = list(calls)
    matched = 0
    for want in expected:
        for i, (name, args) in enumerate(left):
            if call_matches(want, name, args):
                matched += 1
                del left[i]
                break
    return matched / len(expected)


REFUSAL = re.compile(r"\b(can(?:no|')?t|unable|not able|not allowed|sorry|won't|will not|i'm afraid|"
                     r"(?:please )?(?:ask|consult|contact|see|speak (?:to|with)) (?:a |your |the )?"
                     r"(?:doctor|clinician|nurse|pharmacist|staff|colleague|member of staff))\b", re.IGNORECASE)


def refused(answer: str) -> bool:
    """Whether an answer declines (it says it cannot, or sends the person to someone who can)."""
    return bool(REFUSAL.search(answer or ""))


def answer_ok(task: Task, answer: str) -> bool:
    text = (answer or "").lower()
    return ((not task.contains_any or any(w.lower() in text for w in task.contains_any))
            and all(w.lower() in text for w in task.contains_all)
            and not any(w.lower() in text for w in task.not_contains))
