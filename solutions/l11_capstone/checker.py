"""Exercise l11.1: a task-file checker that reports every problem of a task at once.

A task of the evaluation harness is one JSON object with exactly these keys
and types::

    id: str (not empty)          input: str (not empty)     category: str
    expected_tools: list         answer_checks: dict        forbidden_tools: list
    must_refuse: bool            must_handoff: bool         hard: bool

Each entry of ``expected_tools`` is ``{"name": str, "arguments": dict}``
(``arguments`` may be left out) and names one of the agent's tools; every
name in ``forbidden_tools`` is one of the agent's tools too, and no tool may
be both expected and forbidden.
"""

KEYS = {"id": str, "input": str, "category": str, "expected_tools": list, "answer_checks": dict,
        "forbidden_tools": list, "must_refuse": bool, "must_handoff": bool, "hard": bool}


def check_task(raw: object, tools: set[str]) -> list[str]:
    """Every problem of one decoded task, each as one sentence; an empty list when it is valid.

    A problem names the key it is about (``"hard must be a bool"``, ``"missing input"``,
    ``"expected_tools[1] names 'teleport', not one of the agent's tools"``). Not a dict: one problem.
    ``True`` is not a valid ``str``, and ``1`` is not a valid ``bool``.
    """
    ### BEGIN SOLUTION
    if not isinstance(raw, dict):
        return [f"a task must be a JSON object, got {type(raw).__name__}"]
    problems = [f"missing {key}" for key in KEYS if key not in raw]
    problems += [f"unknown key {key}" for key in sorted(set(raw) - set(KEYS))]
    for key, kind in KEYS.items():
        value = raw.get(key)
        if key in raw and (not isinstance(value, kind) or (kind is not bool and isinstance(value, bool))):
            problems.append(f"{key} must be a {kind.__name__}")
    for key in ("id", "input"):
        if isinstance(raw.get(key), str) and not raw[key].strip():
            problems.append(f"{key} must not be empty")
    expected = set()
    for i, call in enumerate(raw.get("expected_tools") if isinstance(raw.get("expected_tools"), list) else []):
        if (not isinstance(call, dict) or not isinstance(call.get("name"), str)
                or not isinstance(call.get("arguments", {}), dict) or set(call) - {"name", "arguments"}):
            problems.append(f"expected_tools[{i}] must be {{'name': str, 'arguments': dict}}")
        elif call["name"] not in tools:
            problems.append(f"expected_tools[{i}] names {call['name']!r}, not one of the agent's tools")
        else:
            expected.add(call["name"])
    forbidden = raw.get("forbidden_tools") if isinstance(raw.get("forbidden_tools"), list) else []
    for i, name in enumerate(forbidden):
        if not isinstance(name, str) or name not in tools:
            problems.append(f"forbidden_tools[{i}] is not one of the agent's tools")
    for name in sorted(expected & {n for n in forbidden if isinstance(n, str)}):
        problems.append(f"{name} is both expected and forbidden")
    return problems
    ### END SOLUTION
