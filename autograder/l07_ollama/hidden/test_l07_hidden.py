"""Hidden tests of lesson 07: the cases a quick solution forgets."""

import json

import ollama
import pytest

from course.servers.faulty import FaultyServer, Reply, Status, chat_line


def test_health_a_200_that_is_not_ollama_is_not_healthy(target):
    with FaultyServer([Reply(["not", "a", "version"])]) as server:
        got = target.load("health").check_health(server.url, sleep=lambda s: None)
    assert got["healthy"] is False and got["error"]


def test_health_after_the_last_retry_reports_the_last_error(target):
    with FaultyServer([Status(500), Status(502)]) as server:
        got = target.load("health").check_health(server.url, retries=1, sleep=lambda s: None)
    assert got == {"healthy": False, "version": None, "attempts": 2, "error": got["error"]} and "502" in got["error"]


def test_choose_model_ignores_case_and_punctuation(target):
    listed = ["smollm2-135m:latest", "qwen2.5-coder-0.5b:latest"]
    assert target.load("choose").choose_model("DEBUG, please!", listed) == "qwen2.5-coder-0.5b"


def test_read_stream_stops_at_the_final_line_and_skips_blanks(target):
    lines = ["", json.dumps(chat_line("ok")), "  ", json.dumps(chat_line("", done=True, eval_count=1)),
             json.dumps(chat_line("after the end"))]
    got = target.load("stream").read_chat_stream(lines)
    assert got["content"] == "ok" and got["tokens_per_s"] is None


def add(a: int, b: int) -> int:
    """Add two integers.

    Args:
      a: the first
      b: the second
    """
    return a + b


def test_tool_loop_repeated_call_asks_without_tools(target):
    call = {"function": {"name": "add", "arguments": {"a": 1, "b": 1}}}
    script = [Reply(chat_line(tool_calls=[call], done=True)), Reply(chat_line(tool_calls=[call], done=True)),
              Reply(chat_line("It is 2.", done=True))]
    with FaultyServer(script) as server:
        answer = target.load("tool_loop").run_tool_loop(ollama.Client(host=server.url), "m",
                                                        [{"role": "user", "content": "1+1"}], {"add": add})
        sent = [body for _, _, body in server.requests]
    assert answer == "It is 2."
    assert sent[2].get("tools") in (None, [])
    assert sum(1 for m in sent[2]["messages"] if m["role"] == "tool") == 1  # not run twice


def test_tool_loop_gives_up_after_max_rounds(target):
    calls = [Reply(chat_line(tool_calls=[{"function": {"name": "add", "arguments": {"a": i, "b": 0}}}], done=True))
             for i in range(3)]
    with FaultyServer(calls) as server:
        with pytest.raises(RuntimeError) as err:
            target.load("tool_loop").run_tool_loop(ollama.Client(host=server.url), "m",
                                                   [{"role": "user", "content": "x"}],
                                                   {"add": add}, max_rounds=3)
        assert len(server.requests) == 3
    assert not isinstance(err.value, NotImplementedError)
