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
    # YOUR CODE HERE: exercise l11.1, A task-file checker
    raise NotImplementedError("exercise l11.1: read lessons/l11_capstone/index.md#a-task-file-checker, then run `course check l11`")
