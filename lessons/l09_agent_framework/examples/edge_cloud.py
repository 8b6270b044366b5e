"""Edge first, cloud when it helps: the cloud goes away mid-conversation and nothing is lost.

The "cloud" is course serve's OpenAI face on this machine (SmolLM2 too: what
matters here is the route, not the model); the local model is SmolLM2 in this
process. Long requests are escalated. After the first turns the server stops:
the next escalated turn falls back to the local model with a notice, and after
two failures in a row the circuit breaker stops trying the cloud at all.
"""

import tempfile
import time
from pathlib import Path

from course.agent import Agent
from course.backends import LlamaCppBackend
from course.backends.openai_compat import OpenAICompatBackend
from course.framework import EdgeCloudBackend, PersistentAgent, SessionStore
from course.servers import CourseServer


def long_request(messages: list[dict]) -> bool:
    """The escalation rule: requests of more than six words go to the cloud."""
    return len(messages[-1]["content"].split()) > 6


tmp = tempfile.TemporaryDirectory()
store = SessionStore(Path(tmp.name) / "sessions.db")
local = LlamaCppBackend("smollm2-135m")


def ask(text: str) -> None:
    start = time.perf_counter()
    turn = agent.ask("ana", text)
    record = backend.log[-1]
    print(f"{text!r}\n  -> {record.route:5} ({record.reason}), {time.perf_counter() - start:.2f} s:"
          f" {turn.answer.strip()[:60]!r}")
    if record.notice:
        print(f"  notice: {record.notice}")


with CourseServer(port=0, models=["smollm2-135m"]) as server:
    cloud = OpenAICompatBackend(server.url + "/v1", "smollm2-135m", timeout=30)
    backend = EdgeCloudBackend(local, cloud, escalate=long_request, timeout_s=30, trip_after=2, cooldown_s=60)
    agent = PersistentAgent(Agent(backend, max_tokens=24), store)
    ask("Say hello.")
    ask("Please explain in one sentence what a cloud server is.")
print("-- the cloud server is stopped --")
ask("Please explain in one sentence what an edge device is.")
ask("Please say in one sentence why a local model helps.")
ask("Now say goodbye to me, please, in one short sentence.")
print(f"degraded mode (circuit open): {backend.degraded}")

print("the stored history, read back from the file:")
routes = iter(backend.log)
for m in SessionStore(store.path).load("ana"):
    tag = f"[{next(routes).route}]" if m["role"] == "assistant" else ""
    print(f"  {m['role']:9} {tag:7} {m['content'].strip()[:60]!r}")
backend.close()
store.close()
tmp.cleanup()
