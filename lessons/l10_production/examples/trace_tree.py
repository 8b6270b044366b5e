"""One agent run, traced with OpenTelemetry across course serve, printed as a tree.

The agent (lesson 00's loop) talks to course serve (SmolLM2) through its
OpenAI face; its HTTP client sends the W3C traceparent header, so the
server's spans join the agent's trace. The spans go to a local JSON-lines
file too, which is what a collector or a viewer would read.
"""

import tempfile
from pathlib import Path

from course.agent import Agent
from course.backends.openai_compat import OpenAICompatBackend
from course.production.tracing import capture, export_to, load_spans, span_tree
from course.servers import CourseServer
from course.tools import tool


@tool
def get_opening_hours(day: str) -> str:
    """The shop's opening hours on a day of the week."""
    return "10:00 to 16:00" if day.lower().startswith("sun") else "9:00 to 19:00"


with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "spans.jsonl"
    export_to(path)
    with capture() as spans, CourseServer(port=0, models=["smollm2-135m"], log=None) as server:
        agent = Agent(OpenAICompatBackend(server.url + "/v1", "smollm2-135m"), [get_opening_hours], max_tokens=48)
        result = agent.run("When is the shop open on Sunday?")
    print("answer:", (result.answer or result.stop_reason).strip()[:120])
    print(span_tree(spans))
    print(f"{len(load_spans(path))} spans in the local file {path.name}")
