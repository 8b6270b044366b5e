"""OpenTelemetry traces of an agent run that crosses course serve (lesson 10): the agent's spans, the server's
spans joined to them by the W3C traceparent header, and the Agent Framework's own spans on the same trace."""

from __future__ import annotations

import asyncio

from opentelemetry import trace

from course.agent import Agent
from course.backends.fake import CallTool, Reply, ScriptedBackend
from course.backends.openai_compat import OpenAICompatBackend
from course.production.tracing import capture, children_of, export_to, load_spans, named, span_tree
from course.servers import CourseServer, Engine
from course.tools import tool


@tool
def lookup_city(city: str) -> str:
    """Facts about a city."""
    return f"{city} facts"


@tool
def broken(city: str) -> str:
    """Always fails."""
    raise RuntimeError("the database is down")


def scripted_engine(script) -> Engine:
    backend = ScriptedBackend(script)
    return Engine(["smollm2-135m"], loader=lambda alias, kind, n_ctx: backend, estimate=lambda a, k, n: 2**20,
                  reap_every_s=3600)


def test_agent_and_server_spans_make_one_trace(tmp_path):
    engine = scripted_engine([CallTool("lookup_city", {"city": "Lyon"}, id="call_1"),
                              CallTool("broken", {"city": "Lyon"}, id="call_2"), Reply("Lyon is nice.")])
    export_to(tmp_path / "spans.jsonl")
    with capture() as spans, CourseServer(port=0, engine=engine) as server:
        agent = Agent(OpenAICompatBackend(server.url + "/v1", "smollm2-135m"), [lookup_city, broken])
        result = agent.run("Tell me about Lyon")
    assert result.answer == "Lyon is nice."
    (run,) = named(spans, "invoke_agent")
    assert {s["trace_id"] for s in spans} == {run["trace_id"]}, "every span, the server's too, is in the run's trace"
    chats = [s for s in children_of(spans, run) if s["name"].startswith("chat ")]
    tools = [s for s in children_of(spans, run) if s["name"].startswith("execute_tool ")]
    assert len(chats) == 3 and [t["name"] for t in tools] == ["execute_tool lookup_city", "execute_tool broken"]
    assert [t["attributes"]["course.tool.outcome"] for t in tools][0] == "ok" and tools[1]["status"] == "ERROR"
    for chat in chats:
        (served,) = children_of(spans, chat)  # the server's span is the model call's child
        assert served["name"] == "POST /v1/chat/completions" and served["kind"] == "SERVER"
        assert served["attributes"]["http.response.status_code"] == 200
        (generated,) = children_of(spans, served)
        assert generated["name"] == "generate smollm2-135m" and generated["attributes"]["gen_ai.usage.output_tokens"] > 0
        assert "course.ttft_s" in generated["attributes"]
    tree = span_tree(spans)
    assert tree.splitlines()[1].startswith("invoke_agent") and "├─ chat smollm2-135m" in tree
    assert "│  └─ POST /v1/chat/completions" in tree and "execute_tool broken" in tree and "ERROR" in tree
    assert len(load_spans(tmp_path / "spans.jsonl")) >= len(spans)  # the same spans, in the local file


def test_the_agent_frameworks_own_spans_join_the_same_trace():
    """The Microsoft Agent Framework instruments itself (invoke_agent, chat); its OpenAI client sends the trace
    context when given the course's traced HTTP client, so course serve's spans land in its trace too."""
    import openai
    from agent_framework import Agent as AFAgent
    from agent_framework.openai import OpenAIChatCompletionClient

    from course.observability import traced_async_http_client

    engine = scripted_engine([Reply("Hello from the framework.")])
    tracer = trace.get_tracer("course.tests")
    with capture() as spans, CourseServer(port=0, engine=engine) as server:
        client = OpenAIChatCompletionClient(model="smollm2-135m", async_client=openai.AsyncOpenAI(
            base_url=server.url + "/v1", api_key="unused",
            http_client=traced_async_http_client()))
        agent = AFAgent(client, instructions="Answer briefly.", name="greeter")
        with tracer.start_as_current_span("request from a user"):
            answer = asyncio.run(agent.run("hi"))
    assert "Hello from the framework." in answer.text
    (root,) = named(spans, "request from a user")
    in_trace = [s for s in spans if s["trace_id"] == root["trace_id"]]
    scopes = {s["scope"] for s in in_trace}
    assert "course.serve" in scopes and any(scope.startswith("agent_framework") for scope in scopes), scopes
    assert named(in_trace, "invoke_agent") and named(in_trace, "POST /v1/chat/completions")
