"""Exercise l09.3: sessions that survive a restart.

An agent's memory is its list of messages. Keep it in SQLite and it survives
the process: a restart opens the same file and finds every user's history.
Two rules keep it correct: every query names the user (no cross-talk), and a
save happens in one transaction (all the messages of a turn or none).
"""

import json
import sqlite3


def save_messages(db_path: str, user: str, messages: list) -> None:
    """Append ``messages`` (chat message dicts) to ``user``'s history in the SQLite file ``db_path``.

    Create the table if it does not exist. All or nothing: if one message cannot
    be stored (it is not JSON-serialisable, say), none of them is.
    """
    ### BEGIN SOLUTION
    encoded = [json.dumps(m) for m in messages]
    db = sqlite3.connect(db_path)
    try:
        with db:
            db.execute("CREATE TABLE IF NOT EXISTS messages (user TEXT, seq INTEGER, message TEXT)")
            (last,) = db.execute("SELECT COALESCE(MAX(seq), -1) FROM messages WHERE user = ?", (user,)).fetchone()
            db.executemany("INSERT INTO messages VALUES (?, ?, ?)",
                           [(user, last + 1 + i, text) for i, text in enumerate(encoded)])
    finally:
        db.close()
    ### END SOLUTION


def load_messages(db_path: str, user: str) -> list:
    """``user``'s messages, oldest first; an empty list for a user (or a file) with none."""
    ### BEGIN SOLUTION
    db = sqlite3.connect(db_path)
    try:
        db.execute("CREATE TABLE IF NOT EXISTS messages (user TEXT, seq INTEGER, message TEXT)")
        rows = db.execute("SELECT message FROM messages WHERE user = ? ORDER BY seq", (user,)).fetchall()
    finally:
        db.close()
    return [json.loads(row[0]) for row in rows]
    ### END SOLUTION
