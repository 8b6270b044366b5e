"""Conversation state that survives a restart: one SQLite file, one history per user and session.

An agent's memory between turns is its message list. Kept in a process, it
dies with the process; kept in SQLite, it survives a restart, a crash between
turns, and a second process reading the same file. Each turn is written in one
transaction, so a turn is stored whole or not at all, and every query is keyed
by (user, session), so one user never sees another's conversation.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..agent.loop import Agent, AgentResult

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    user TEXT NOT NULL,
    session TEXT NOT NULL,
    seq INTEGER NOT NULL,
    message TEXT NOT NULL,  -- one chat message as JSON (role, content, tool_calls ...)
    created REAL NOT NULL,
    PRIMARY KEY (user, session, seq)
)
"""


class SessionStoreError(Exception):
    """The file is not a session store the course can use; the message says what to do."""


class SessionStore:
    """Chat histories in one SQLite file (``":memory:"`` for a store that lives as long as the object)."""

    def __init__(self, path: str | Path = ":memory:"):
        self.path = str(path)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False)
            with self._db:
                self._db.execute(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise SessionStoreError(
                f"{self.path} is not a session database ({exc}); move it away or pass another path") from None

    @staticmethod
    def _key(user: str, session: str) -> tuple[str, str]:
        for name, value in (("user", user), ("session", session)):
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{name} must be a non-empty string, got {value!r}")
        return user, session

    def load(self, user: str, session: str = "default") -> list[dict]:
        """The stored messages of this user's session, oldest first (empty for a new one)."""
        key = self._key(user, session)
        with self._lock:
            rows = self._db.execute("SELECT message FROM messages WHERE user = ? AND session = ? ORDER BY seq",
                                    key).fetchall()
        return [json.loads(row[0]) for row in rows]

    def append(self, user: str, messages: list[dict], session: str = "default") -> None:
        """Add messages to the end of the session, all of them or (on any error) none."""
        key = self._key(user, session)
        for m in messages:
            if not isinstance(m, dict) or "role" not in m:
                raise ValueError(f"a message is a dict with a 'role', got {m!r:.80}")
        encoded = [json.dumps(m) for m in messages]  # fails before anything is written
        with self._lock, self._db:
            (last,) = self._db.execute("SELECT COALESCE(MAX(seq), -1) FROM messages WHERE user = ? AND session = ?",
                                       key).fetchone()
            now = time.time()
            self._db.executemany("INSERT INTO messages VALUES (?, ?, ?, ?, ?)",
                                 [(*key, last + 1 + i, text, now) for i, text in enumerate(encoded)])

    def sessions(self, user: str) -> list[str]:
        with self._lock:
            rows = self._db.execute("SELECT DISTINCT session FROM messages WHERE user = ? ORDER BY session",
                                    (user,)).fetchall()
        return [r[0] for r in rows]

    def clear(self, user: str, session: str = "default") -> int:
        """Forget a session; returns how many messages were deleted."""
        key = self._key(user, session)
        with self._lock, self._db:
            return self._db.execute("DELETE FROM messages WHERE user = ? AND session = ?", key).rowcount

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> SessionStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass
class Turn:
    answer: str | None
    result: AgentResult
    stored: int  # messages written for this turn


class PersistentAgent:
    """An :class:`~course.agent.Agent` whose conversation with each user is kept in a :class:`SessionStore`.

    A turn is stored only when it finishes (the user's message, the tool calls
    and results, the answer); a turn that fails leaves the stored history as it
    was, so the user can simply ask again.
    """

    def __init__(self, agent: Agent, store: SessionStore, *, max_history: int = 40):
        self.agent = agent
        self.store = store
        self.max_history = max_history

    def ask(self, user: str, text: str, *, session: str = "default") -> Turn:
        history = self.store.load(user, session)
        window = _window(history, self.max_history)
        result = self.agent.run(text, history=window)
        # result.messages = [system, *window, user, ...what this turn added]
        new = result.messages[1 + len(window):]
        if result.answer is None:
            new = new[:1]  # keep the question, not a half-finished tool exchange
        self.store.append(user, new, session)
        return Turn(result.answer, result, len(new))


def _window(history: list[dict], limit: int) -> list[dict]:
    """The last ``limit`` messages, starting at a user message (never a tool result without its call)."""
    if len(history) <= limit:
        return history
    tail = history[-limit:]
    for i, m in enumerate(tail):
        if m["role"] == "user":
            return tail[i:]
    return []
