"""Which role may call which tool, and a record of every call and every refusal.

A :class:`ToolRegistry` holds the tools and a policy: role -> tool-name
patterns (``fnmatch`` style, so ``"read_*"``), with ``inherits`` for roles that
extend others. Least privilege twice over: an agent acting for a role is only
*offered* the tools the role may call (:meth:`ToolRegistry.tools_for`), and
every call is checked again when it runs, so a model that names a tool it was
not given, or code that calls :meth:`ToolRegistry.call` directly, is refused.

Every decision goes to the :class:`AuditLog` (SQLite, append-only from the
course's side): who, acting as which role, asked for which tool with which
arguments, whether it was allowed, and how the call ended.
"""

from __future__ import annotations

import fnmatch
import json
import sqlite3
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..tools import Tool


class PermissionDenied(Exception):
    """A role asked for a tool it may not call."""


@dataclass(frozen=True)
class AuditEntry:
    time: float
    user: str
    role: str
    tool: str
    arguments: str  # JSON, as the model sent it
    decision: str  # allowed | denied
    outcome: str  # ok | error | denied
    detail: str = ""


class AuditLog:
    """Audit entries in SQLite: every tool call and every refusal, in order."""

    def __init__(self, path: str | Path = ":memory:", *, clock=time.time, redact=None):
        """``redact``: a function applied to the arguments and the detail before they are stored (lesson 11
        passes lesson 10's redactor, so personal data never reaches the log)."""
        self._redact = redact or (lambda text: text)
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._lock = threading.Lock()
        self._clock = clock
        with self._db:
            self._db.execute("CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY, time REAL, user TEXT, "
                             "role TEXT, tool TEXT, arguments TEXT, decision TEXT, outcome TEXT, detail TEXT)")

    def record(self, user: str, role: str, tool: str, arguments: Any, decision: str, outcome: str,
               detail: str = "") -> None:
        args = self._redact(arguments if isinstance(arguments, str) else json.dumps(arguments, default=str))
        detail = self._redact(detail)
        with self._lock, self._db:
            self._db.execute("INSERT INTO audit (time, user, role, tool, arguments, decision, outcome, detail) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             (self._clock(), user, role, tool, args, decision, outcome, detail[:500]))

    def entries(self, **where: str) -> list[AuditEntry]:
        """All entries, oldest first; ``where`` filters on equality (``user="ana"``, ``decision="denied"``)."""
        unknown = set(where) - {"user", "role", "tool", "decision", "outcome"}
        if unknown:
            raise ValueError(f"cannot filter the audit log on {sorted(unknown)}")
        clause = " AND ".join(f"{k} = ?" for k in where)
        sql = "SELECT time, user, role, tool, arguments, decision, outcome, detail FROM audit"
        with self._lock:
            rows = self._db.execute(sql + (f" WHERE {clause}" if clause else "") + " ORDER BY id",
                                    tuple(where.values())).fetchall()
        return [AuditEntry(*row) for row in rows]


class Policy:
    """Role -> allowed tool patterns, with inheritance: ``{"operator": {"tools": [...], "inherits": ["viewer"]}}``."""

    def __init__(self, roles: Mapping[str, Mapping[str, Any]]):
        self.roles = {}
        for name, spec in roles.items():
            unknown = set(spec) - {"tools", "inherits"}
            if unknown:
                raise ValueError(f"role {name!r}: unknown keys {sorted(unknown)} (a role has 'tools' and 'inherits')")
            self.roles[name] = {"tools": list(spec.get("tools", [])), "inherits": list(spec.get("inherits", []))}
        for name, spec in self.roles.items():
            missing = [r for r in spec["inherits"] if r not in self.roles]
            if missing:
                raise ValueError(f"role {name!r} inherits from unknown roles {missing}")

    def patterns(self, role: str) -> list[str]:
        """The role's own patterns and those of every role it inherits from (cycles are harmless)."""
        seen, todo, out = set(), [role], []
        while todo:
            current = todo.pop()
            if current in seen or current not in self.roles:
                continue
            seen.add(current)
            out += self.roles[current]["tools"]
            todo += self.roles[current]["inherits"]
        return out

    def allows(self, role: str, tool: str) -> bool:
        return role in self.roles and any(fnmatch.fnmatchcase(tool, p) for p in self.patterns(role))


class ToolRegistry:
    """Tools, the policy that guards them, and the audit log that records every decision."""

    def __init__(self, policy: Policy | Mapping[str, Mapping[str, Any]], audit: AuditLog | None = None):
        self.policy = policy if isinstance(policy, Policy) else Policy(policy)
        self.audit = audit or AuditLog()
        self.tools: dict[str, Tool] = {}

    def register(self, *tools: Tool) -> None:
        for t in tools:
            if t.name in self.tools:
                raise ValueError(f"a tool named {t.name!r} is already registered")
            self.tools[t.name] = t

    def call(self, user: str, role: str, name: str, arguments: dict | str) -> Any:
        """Run a tool for ``user`` acting as ``role``: checked, run, recorded."""
        if name not in self.tools:
            self.audit.record(user, role, name, arguments, "denied", "denied", "no such tool")
            raise PermissionDenied(f"there is no tool {name!r}")
        if not self.policy.allows(role, name):
            self.audit.record(user, role, name, arguments, "denied", "denied", f"role {role!r} may not call it")
            raise PermissionDenied(f"role {role!r} may not call {name!r}"
                                   + ("" if role in self.policy.roles else f" (there is no role {role!r})"))
        try:
            value = self.tools[name].invoke(arguments)
        except Exception as exc:
            self.audit.record(user, role, name, arguments, "allowed", "error", f"{type(exc).__name__}: {exc}")
            raise
        self.audit.record(user, role, name, arguments, "allowed", "ok")
        return value

    def tools_for(self, user: str, role: str) -> list[Tool]:
        """The tools ``role`` may call, each checked and audited when it runs (for an :class:`~course.agent.Agent`)."""
        return [_Guarded(self, t, user, role) for name, t in self.tools.items() if self.policy.allows(role, name)]


class _Guarded(Tool):
    """A registered tool, as handed to an agent: same schema, every call through the registry."""

    def __init__(self, registry: ToolRegistry, inner: Tool, user: str, role: str):  # noqa: D107
        self.__dict__.update(inner.__dict__)
        self._registry, self._inner, self._user, self._role = registry, inner, user, role

    def invoke(self, arguments: dict | str) -> Any:
        return self._registry.call(self._user, self._role, self._inner.name, arguments)
