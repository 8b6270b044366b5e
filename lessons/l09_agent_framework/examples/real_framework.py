"""The same patterns in the real Microsoft Agent Framework (agent-framework-core 1.23), against course serve.

- a tool, and function middleware that checks a role's permission (the
  course's Policy) and writes every decision to the course's AuditLog;
- a session saved as JSON, restored into a new Agent object, and a second turn
  that carries the first turn's messages;
- an agent turned into a tool for another agent (hierarchical delegation).
"""

import asyncio
import json
import tempfile
from pathlib import Path
from typing import Annotated

from agent_framework import (
    Agent,
    AgentSession,
    FunctionInvocationContext,
    function_middleware,
    tool,
)
from agent_framework.openai import OpenAIChatCompletionClient

from course.framework import AuditLog, Policy
from course.servers import CourseServer

POLICY = Policy({"viewer": {"tools": ["get_*"]}, "guest": {"tools": []}})
audit = AuditLog()


@tool(approval_mode="never_require")
def get_weather(city: Annotated[str, "the city"]) -> str:
    """Get the current weather in a city."""
    return f"It is sunny and 21 C in {city}."


def guard(user: str, role: str):
    """Function middleware: run the tool only if the role may call it, and audit the decision."""

    @function_middleware
    async def check_and_audit(context: FunctionInvocationContext, call_next) -> None:
        name, arguments = context.function.name, dict(context.arguments)
        if not POLICY.allows(role, name):
            audit.record(user, role, name, arguments, "denied", "denied")
            context.result = f"Error: role {role!r} may not call {name!r}."  # the model reads this instead
            return  # no call_next(): the tool does not run
        try:
            await call_next()
        except Exception as exc:
            audit.record(user, role, name, arguments, "allowed", "error", str(exc))
            raise
        result = context.result  # a list of Content items (a plain str if a middleware set one)
        text = result if isinstance(result, str) else " ".join(item.text or "" for item in result)
        audit.record(user, role, name, arguments, "allowed", "ok", text)

    return check_and_audit


def make_agent(url: str, user: str, role: str) -> Agent:
    client = OpenAIChatCompletionClient(model="smollm2-135m", base_url=url + "/v1", api_key="unused")
    client.function_invocation_configuration["max_function_calls"] = 1  # then it must answer
    return Agent(client, instructions="You answer questions about the weather using the tool.", name="weather",
                 description="Answers questions about the weather.", tools=[get_weather],
                 default_options={"temperature": 0, "max_tokens": 80}, middleware=[guard(user, role)])


def show(result) -> None:
    for message in result.messages:
        for content in message.contents:
            detail = getattr(content, "arguments", None) or getattr(content, "result", None) or content.text
            print(f"    {message.role:9} {content.type:16} {str(detail).strip()[:60]!r}")


def sent_messages(record: list, since: int) -> list[int]:
    """How many messages each chat request since ``since`` carried (from the server's record)."""
    return [len(json.loads(body)["messages"]) for method, path, body in record[since:]
            if path.endswith("/chat/completions")]


async def main(url: str, record: list, saved: Path) -> None:
    print("1. a tool round trip for ana (viewer)")
    agent = make_agent(url, "ana", "viewer")
    session = agent.create_session()
    result = await agent.run("What is the weather in Paris?", session=session)
    show(result)
    state = session.to_dict()
    saved.write_text(json.dumps(state))
    print(f"  session saved: {len(state['state']['in_memory']['messages'])} messages,"
          f" {saved.stat().st_size} bytes of JSON")

    print("2. a new Agent object, the session restored from the file, a turn that needs the first")
    again = make_agent(url, "ana", "viewer")
    restored = AgentSession.from_dict(json.loads(saved.read_text()))
    before = len(restored.state["in_memory"]["messages"])
    start = len(record)
    result = await again.run("Which city did I ask about?", session=restored)
    show(result)
    print(f"  messages in the session: {before} before, {len(restored.state['in_memory']['messages'])} after;"
          f" the chat requests of this turn carried {sent_messages(record, start)} messages")

    print("3. the same question from a guest, whose role may call no tool")
    result = await make_agent(url, "bo", "guest").run("What is the weather in Paris?")
    show(result)

    print("4. an agent as a tool of another agent (not run here)")
    delegate = agent.as_tool(name="ask_weather")
    print(f"  {type(delegate).__name__} {delegate.name!r}: {delegate.description!r},"
          f" parameters {delegate.parameters()['properties']}")


record: list = []  # the server appends (method, path, body) of every request it receives
with tempfile.TemporaryDirectory() as tmp, CourseServer(port=0, models=["smollm2-135m"], record=record) as server:
    asyncio.run(main(server.url, record, Path(tmp) / "session.json"))

print("the audit log:")
for e in audit.entries():
    print(f"  {e.user:4} {e.role:7} {e.tool:12} {e.arguments:18} {e.decision:7} {e.outcome:7} {e.detail}")

# what the lesson claims, checked every time the example runs (tests/course/test_lessons.py runs it)
decisions = [(e.user, e.decision) for e in audit.entries()]
assert ("ana", "allowed") in decisions and ("bo", "denied") in decisions, decisions
assert all(e.tool == "get_weather" for e in audit.entries())
