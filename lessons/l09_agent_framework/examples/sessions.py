"""Conversation state that survives a restart: two users, one SQLite file, no cross-talk.

Fakes only (ScriptedBackend), so the run is instant and the same every time.
A "restart" is what a new process would do: open the same file again, with a
new agent object that remembers nothing of its own.
"""

import tempfile
from pathlib import Path

from course.agent import Agent
from course.backends import Reply, ScriptedBackend
from course.backends.fake import CallTool
from course.framework import PersistentAgent, SessionStore
from course.tools import tool


@tool
def lookup_order(order_id: str) -> str:
    """Look up an order.

    Args:
        order_id: the order number.
    """
    return f"order {order_id}: shipped on Monday"


tmp = tempfile.TemporaryDirectory()
path = Path(tmp.name) / "sessions.db"

# first process: Ana asks about an order (one tool call), Bo says hello
store = SessionStore(path)
first = ScriptedBackend([CallTool("lookup_order", {"order_id": "7"}), Reply("Order 7 shipped on Monday."),
                         Reply("Hello Bo, nice to meet you.")])
agent = PersistentAgent(Agent(first, [lookup_order]), store)
for user, text in [("ana", "Where is my order 7?"), ("bo", "Hi, I am Bo.")]:
    turn = agent.ask(user, text)
    print(f"{user}: {text!r} -> {turn.answer!r} ({turn.stored} messages stored)")

print("what Ana's turn stored:")
for m in store.load("ana"):
    detail = m.get("content") or ", ".join(f"{c['function']['name']}({c['function']['arguments']})"
                                           for c in m.get("tool_calls", []))
    print(f"  {m['role']:9} {detail}")
store.close()  # the process ends

# second process: a new store object on the same file, a new agent, a new model
second = ScriptedBackend([Reply("You asked about order 7."), Reply("You told me you are Bo.")])
again = PersistentAgent(Agent(second, [lookup_order]), SessionStore(path))
for user, text in [("ana", "Which order did I ask about?"), ("bo", "What is my name?")]:
    turn = again.ask(user, text)
    print(f"after the restart, {user}: {text!r} -> {turn.answer!r}")

# what the model was sent on each turn after the restart: the user's own history, nobody else's
for request, user in zip(second.requests, ["ana", "bo"]):
    sent = [m.get("content") for m in request.messages[1:] if m["role"] == "user"]
    print(f"  sent for {user}: {len(request.messages)} messages, user lines {sent}")
print(f"stored: ana {len(again.store.load('ana'))} messages, bo {len(again.store.load('bo'))} messages,"
      f" in {path.name}")
again.store.close()
tmp.cleanup()
