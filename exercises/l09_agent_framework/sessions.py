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
    # YOUR CODE HERE: exercise l09.3, Sessions that survive a restart
    raise NotImplementedError("exercise l09.3: read lessons/l09_agent_framework/index.md#sessions-that-survive-a-restart, then run `course check l09`")


def load_messages(db_path: str, user: str) -> list:
    """``user``'s messages, oldest first; an empty list for a user (or a file) with none."""
    # YOUR CODE HERE: exercise l09.3, Sessions that survive a restart
    raise NotImplementedError("exercise l09.3: read lessons/l09_agent_framework/index.md#sessions-that-survive-a-restart, then run `course check l09`")
