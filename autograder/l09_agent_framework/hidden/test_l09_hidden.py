"""Hidden tests of lesson 09: what a quick solution forgets."""

import atexit
import math
import os
import shutil
import tempfile

import pytest


def test_allowed_does_not_match_a_pattern_as_a_prefix(target):
    allowed = target.load("permissions").allowed
    policy = {"viewer": {"tools": ["lookup"]}}
    assert allowed(policy, "viewer", "lookup") and not allowed(policy, "viewer", "lookup_and_delete")


def test_call_tool_does_not_run_a_denied_tool(target):
    ran = []
    with pytest.raises(PermissionError):
        target.load("permissions").call_tool({"wipe": lambda: ran.append(1)}, {"viewer": {"tools": []}}, [],
                                             "ana", "viewer", "wipe", {})
    assert ran == []


class Flat:
    def label_logprobs(self, messages, labels):
        return {label: -1000.0 for label in labels}


def test_route_intent_with_equal_probabilities_falls_back(target):
    agents = {"billing": "money", "tech": "devices", "general": "the rest"}
    name, p = target.load("intent").route_intent(Flat(), "x", agents, fallback="general", threshold=0.5)
    assert name == "general" and math.isclose(p, 1 / 3)



def fresh_db() -> str:
    """A new, empty SQLite path (notebooks have no tmp_path fixture)."""
    folder = tempfile.mkdtemp(prefix="l09-")
    atexit.register(shutil.rmtree, folder, True)
    return os.path.join(folder, "sessions.db")


def test_sessions_keep_order_across_many_saves(target):
    s = target.load("sessions")
    db = fresh_db()
    for i in range(12):
        s.save_messages(db, "ana", [{"role": "user", "content": str(i)}])
    assert [m["content"] for m in s.load_messages(db, "ana")] == [str(i) for i in range(12)]


def test_duplicate_agent_names_are_reported(target):
    config = {"deployment": {"name": "x", "mode": "single_device"},
              "models": [{"name": "m", "model": "smollm2-135m"}],
              "agents": [{"name": "a", "model": "m"}, {"name": "a", "model": "m"}]}
    problems = target.load("deployment").check_deployment(config)
    assert [p.split(":")[0] for p in problems] == ["agents[1].name"]
