"""Autograder for lesson 07: Ollama's API.

Each client is graded twice: against a server that fails on purpose
(course.servers.faulty: 500s, hangs, dropped connections, truncated streams,
error lines) and against the real thing, `course serve` with SmolLM2, driven
through the official ``ollama`` client or its raw NDJSON.
"""

import json

import httpx
import ollama
import pytest
from hypothesis import given
from hypothesis import strategies as st

from course.net import free_port
from course.servers.faulty import Drop, FaultyServer, Hang, Lines, Reply, Status, chat_line

VERSION = {"version": "0.12.6"}


# --- l07.1 health check ---------------------------------------------------------

def test_health_of_the_real_server(target, course_server):
    got = target.load("health").check_health(course_server.url)
    assert got == {"healthy": True, "version": httpx.get(course_server.url + "/api/version").json()["version"],
                   "attempts": 1, "error": None}


def test_health_retries_5xx_with_doubling_pauses(target):
    pauses = []
    with FaultyServer([Status(500), Status(503), Reply(VERSION)]) as server:
        got = target.load("health").check_health(server.url, retries=3, backoff_s=0.5, sleep=pauses.append)
        assert [r[1] for r in server.requests] == ["/api/version"] * 3
    assert got == {"healthy": True, "version": "0.12.6", "attempts": 3, "error": None}
    assert pauses == [0.5, 1.0]


def test_health_does_not_retry_a_4xx(target):
    pauses = []
    with FaultyServer([Status(401, "missing API key"), Reply(VERSION)]) as server:
        got = target.load("health").check_health(server.url, sleep=pauses.append)
        assert len(server.requests) == 1
    assert got["healthy"] is False and got["attempts"] == 1 and "401" in got["error"] and pauses == []


def test_health_gives_up_on_a_server_that_is_not_there(target):
    pauses = []
    got = target.load("health").check_health(f"http://127.0.0.1:{free_port()}", retries=2, backoff_s=0.25,
                                             sleep=pauses.append)
    assert got["healthy"] is False and got["attempts"] == 3 and got["error"] and pauses == [0.25, 0.5]


def test_health_times_out_and_retries_a_hanging_server(target):
    with FaultyServer([Hang(1.5), Drop(), Reply(VERSION)]) as server:
        got = target.load("health").check_health(server.url, retries=2, timeout_s=0.5, sleep=lambda s: None)
    assert got == {"healthy": True, "version": "0.12.6", "attempts": 3, "error": None}


# --- l07.2 availability and the task classifier -------------------------------------

def test_model_available_reads_tags_as_ollama_lists_them(target, course_server):
    choose = target.load("choose")
    listed = [m.model for m in ollama.Client(host=course_server.url).list().models]
    assert choose.model_available("smollm2-135m", listed)
    assert choose.model_available("smollm2-135m:latest", listed)
    assert not choose.model_available("smollm2-135m:q8", listed)
    assert not choose.model_available("smollm2", listed)
    assert choose.model_available("pirate:v2", ["pirate:v2", "x:latest"]) and not choose.model_available("pirate", ["pirate:v2"])


names = st.from_regex(r"[a-z][a-z0-9.\-]{0,12}", fullmatch=True)
tags = st.one_of(st.just(""), st.from_regex(r":[a-z0-9]{1,6}", fullmatch=True))


@given(names, tags, st.lists(st.tuples(names, tags), max_size=5))
def test_model_available_matches_a_tagless_name_to_latest(target, name, tag, others):
    choose = target.load("choose")
    listed = [n + t for n, t in others]
    full = lambda n, t: n + (t or ":latest")  # noqa: E731
    expected = full(name, tag) in {full(n, t) for n, t in others}
    assert choose.model_available(name + tag, listed) is expected


ALL = ["smollm2-135m:latest", "qwen2.5-coder-0.5b:latest", "gemma3-270m:latest"]


@pytest.mark.parametrize("task,listed,expected", [
    ("Classify this ticket", ALL, "smollm2-135m"),
    ("debug my Python function", ALL, "qwen2.5-coder-0.5b"),
    ("Please continue the story", ALL, "gemma3-270m"),
    ("What is the weather like?", ALL, "smollm2-135m"),
    ("debug this", ["smollm2-135m:latest"], "smollm2-135m"),  # the coder is missing: general
    ("decode this message", ALL, "smollm2-135m"),  # "decode" is not "code"
    ("ROUTE: urgent", ALL, "smollm2-135m"),
    ("write code, then route it", ALL, "smollm2-135m"),  # routes are read in order
])
def test_choose_model_by_task(target, task, listed, expected):
    assert target.load("choose").choose_model(task, listed) == expected


def test_choose_model_says_what_is_missing(target):
    with pytest.raises(LookupError, match="smollm2-135m"):
        target.load("choose").choose_model("debug my code", ["llama3:latest"])


# --- l07.3 reading an NDJSON stream -----------------------------------------------------

def test_read_the_real_servers_stream(target, course_server):
    body = {"model": "smollm2-135m", "messages": [{"role": "user", "content": "Say hello."}],
            "options": {"temperature": 0, "num_predict": 12}}
    whole = httpx.post(course_server.url + "/api/chat", json=dict(body, stream=False), timeout=120).json()
    with httpx.stream("POST", course_server.url + "/api/chat", json=body, timeout=120) as r:
        got = target.load("stream").read_chat_stream(r.iter_lines())
    assert got["content"] == whole["message"]["content"] and got["eval_count"] == whole["eval_count"]
    assert got["tool_calls"] == [] and got["tokens_per_s"] > 0


pieces = st.lists(st.text(max_size=8), max_size=12)


@given(pieces, st.text(max_size=4), st.integers(1, 500), st.integers(1, 10**10), st.booleans())
def test_read_any_stream(target, texts, last, count, duration, as_bytes):
    """The final line may carry content too (a server that sends the whole reply in one line does)."""
    lines = [json.dumps(chat_line(t)) for t in texts]
    lines.append(json.dumps(chat_line(last, done=True, eval_count=count, eval_duration_ns=duration)))
    got = target.load("stream").read_chat_stream([line.encode() if as_bytes else line for line in lines])
    assert got["content"] == "".join(texts) + last and got["eval_count"] == count
    assert got["tokens_per_s"] == pytest.approx(count / (duration / 1e9))


def test_a_truncated_stream_is_an_error_not_an_answer(target):
    stream = target.load("stream")
    lines = [json.dumps(chat_line("Par")), json.dumps(chat_line("is"))]
    with pytest.raises(ValueError, match="final|incomplete|done"):
        stream.read_chat_stream(lines)
    with pytest.raises(ValueError, match="line 2"):
        stream.read_chat_stream([lines[0], lines[1][:-9], json.dumps(chat_line("", done=True))])


def test_an_error_line_raises_with_the_servers_words(target):
    with pytest.raises(ValueError, match="model runner crashed"):
        target.load("stream").read_chat_stream([json.dumps(chat_line("a")), '{"error": "model runner crashed"}'])


def test_a_stream_cut_by_the_server(target):
    lines = [chat_line("Hello"), chat_line(" world"), chat_line("", done=True, eval_count=2, eval_duration_ns=10**8)]
    with FaultyServer([Lines(lines, cut=40)]) as server:
        with httpx.stream("POST", server.url + "/api/chat", json={}) as r:
            with pytest.raises(ValueError):
                target.load("stream").read_chat_stream(r.iter_lines())


# --- l07.4 the client-side tool loop ------------------------------------------------------

def add(a: int, b: int) -> int:
    """Add two integers.

    Args:
      a: the first integer
      b: the second integer
    """
    return a + b


def test_tool_loop_runs_the_call_and_sends_the_result_back(target):
    call = {"function": {"name": "add", "arguments": {"a": 2, "b": 3}}}
    script = [Reply(chat_line(tool_calls=[call], done=True)), Reply(chat_line("2 + 3 = 5", done=True))]
    with FaultyServer(script) as server:
        messages = [{"role": "user", "content": "What is 2 + 3?"}]
        answer = target.load("tool_loop").run_tool_loop(ollama.Client(host=server.url), "smollm2-135m", messages,
                                                        {"add": add})
        sent = [body for _, path, body in server.requests]
    assert answer == "2 + 3 = 5"
    assert sent[0]["tools"][0]["function"]["name"] == "add"
    follow = sent[1]["messages"]
    assert follow[1]["role"] == "assistant" and follow[1]["tool_calls"][0]["function"]["arguments"] == {"a": 2, "b": 3}
    assert follow[2] == {"role": "tool", "tool_name": "add", "content": "5"}
    assert messages[-1] == {"role": "assistant", "content": "2 + 3 = 5"}


def test_tool_loop_reports_unknown_tools_and_failures_to_the_model(target):
    def boom(x: int) -> int:
        """Fail.

        Args:
          x: anything
        """
        raise ZeroDivisionError("division by zero")

    calls = [{"function": {"name": "launch", "arguments": {}}}, {"function": {"name": "boom", "arguments": {"x": 1}}}]
    script = [Reply(chat_line(tool_calls=calls, done=True)), Reply(chat_line("Sorry.", done=True))]
    with FaultyServer(script) as server:
        answer = target.load("tool_loop").run_tool_loop(ollama.Client(host=server.url), "m",
                                                        [{"role": "user", "content": "go"}], {"boom": boom})
        results = [m for m in server.requests[1][2]["messages"] if m["role"] == "tool"]
    assert answer == "Sorry."
    assert [r["tool_name"] for r in results] == ["launch", "boom"]
    assert "unknown" in results[0]["content"] and "division by zero" in results[1]["content"]


def test_the_real_model_through_the_loop(target, course_server):
    messages = [{"role": "user", "content": "What is 2 plus 3? Use the add tool."}]
    answer = target.load("tool_loop").run_tool_loop(ollama.Client(host=course_server.url), "smollm2-135m", messages,
                                                    {"add": add}, options={"temperature": 0, "num_predict": 60})
    assert isinstance(answer, str) and answer
    tool_results = [m for m in messages if m["role"] == "tool"]
    assert tool_results and tool_results[0]["tool_name"] == "add" and tool_results[0]["content"] == "5"
