"""Exercise l09.1: a permission check, and an audit trail of every decision.

A policy maps each role to the tools it may call, as ``fnmatch`` patterns
(``"read_*"``), and may inherit other roles' permissions::

    {"viewer": {"tools": ["lookup_*"]},
     "clerk": {"tools": ["refund_order"], "inherits": ["viewer"]}}

Every call, allowed or not, leaves one entry in the audit list: who asked, as
which role, for which tool, what was decided and how it ended.
"""

import fnmatch


def allowed(policy: dict, role: str, tool: str) -> bool:
    """May ``role`` call ``tool``? Patterns of inherited roles count; an unknown role may call nothing.

    Inheritance may have cycles (a inherits b, b inherits a): they must not hang.
    """
    ### BEGIN SOLUTION
    seen, todo = set(), [role]
    while todo:
        current = todo.pop()
        if current in seen or current not in policy:
            continue
        seen.add(current)
        if any(fnmatch.fnmatchcase(tool, pattern) for pattern in policy[current].get("tools", [])):
            return True
        todo.extend(policy[current].get("inherits", []))
    return False
    ### END SOLUTION


def call_tool(tools: dict, policy: dict, audit: list, user: str, role: str, name: str, arguments: dict):
    """Run ``tools[name](**arguments)`` for ``user`` acting as ``role``, if the policy allows it.

    Append one dict to ``audit`` per call, with keys user, role, tool, decision
    (``"allowed"`` or ``"denied"``) and outcome (``"ok"``, ``"error"`` or ``"denied"``).
    A tool that does not exist or is not allowed: audit, then raise ``PermissionError``.
    A tool that raises: audit the error, then let the exception through.
    """
    ### BEGIN SOLUTION
    entry = {"user": user, "role": role, "tool": name}
    if name not in tools or not allowed(policy, role, name):
        audit.append(entry | {"decision": "denied", "outcome": "denied"})
        raise PermissionError(f"role {role!r} may not call {name!r}")
    try:
        result = tools[name](**arguments)
    except Exception:
        audit.append(entry | {"decision": "allowed", "outcome": "error"})
        raise
    audit.append(entry | {"decision": "allowed", "outcome": "ok"})
    return result
    ### END SOLUTION
