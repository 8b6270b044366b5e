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
    # YOUR CODE HERE: exercise l09.1, A permission check
    raise NotImplementedError("exercise l09.1: read lessons/l09_agent_framework/index.md#a-permission-check, then run `course check l09`")


def call_tool(tools: dict, policy: dict, audit: list, user: str, role: str, name: str, arguments: dict):
    """Run ``tools[name](**arguments)`` for ``user`` acting as ``role``, if the policy allows it.

    Append one dict to ``audit`` per call, with keys user, role, tool, decision
    (``"allowed"`` or ``"denied"``) and outcome (``"ok"``, ``"error"`` or ``"denied"``).
    A tool that does not exist or is not allowed: audit, then raise ``PermissionError``.
    A tool that raises: audit the error, then let the exception through.
    """
    # YOUR CODE HERE: exercise l09.1, A permission check
    raise NotImplementedError("exercise l09.1: read lessons/l09_agent_framework/index.md#a-permission-check, then run `course check l09`")
