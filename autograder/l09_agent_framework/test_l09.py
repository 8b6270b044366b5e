"""Autograder for lesson 09: agent framework patterns.

Permissions are graded on policies with inheritance and patterns (and hypothesis
on random policies against a reference reading of the rules); the intent router
with scripted label probabilities and on SmolLM2; sessions on real SQLite files,
reopened as a restart would; deployment checks on the shipped files and broken
copies of them.
"""

import atexit
import fnmatch
import math
import os
import shutil
import sqlite3
import tempfile

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from course.framework.config import shipped_deployment

POLICY = {"viewer": {"tools": ["lookup_*"]},
          "clerk": {"tools": ["refund_order"], "inherits": ["viewer"]},
          "admin": {"tools": ["*"]}}


# --- l09.1 a permission check ------------------------------------------------------

def test_allowed_reads_patterns_and_inheritance(target):
    allowed = target.load("permissions").allowed
    assert allowed(POLICY, "viewer", "lookup_order") and not allowed(POLICY, "viewer", "refund_order")
    assert allowed(POLICY, "clerk", "refund_order") and allowed(POLICY, "clerk", "lookup_customer")
    assert allowed(POLICY, "admin", "anything") and not allowed(POLICY, "guest", "lookup_order")


roles = st.sampled_from(["a", "b", "c", "d"])
patterns = st.sampled_from(["read_*", "write_*", "delete_all", "*_log", "x?"])


@given(st.dictionaries(roles, st.fixed_dictionaries({"tools": st.lists(patterns, max_size=2),
                                                     "inherits": st.lists(roles, max_size=2)}), max_size=4),
       roles, st.sampled_from(["read_a", "write_b", "delete_all", "audit_log", "xy", "other"]))
def test_allowed_on_any_policy_even_with_cycles(target, policy, role, tool):
    def reachable(r, seen):
        if r in seen or r not in policy:
            return seen
        seen.add(r)
        for parent in policy[r]["inherits"]:
            reachable(parent, seen)
        return seen

    expected = any(fnmatch.fnmatchcase(tool, p) for r in reachable(role, set()) for p in policy[r]["tools"])
    assert target.load("permissions").allowed(policy, role, tool) is expected


def lookup_order(order_id):
    return f"order {order_id}: shipped"


def refund_order(order_id):
    return f"order {order_id}: refunded"


def broken(order_id):
    raise RuntimeError("disk full")


TOOLS = {"lookup_order": lookup_order, "refund_order": refund_order, "lookup_broken": broken}


def test_call_tool_runs_allowed_calls_and_audits_them(target):
    audit = []
    got = target.load("permissions").call_tool(TOOLS, POLICY, audit, "bo", "clerk", "refund_order", {"order_id": "7"})
    assert got == "order 7: refunded"
    assert audit == [{"user": "bo", "role": "clerk", "tool": "refund_order", "decision": "allowed", "outcome": "ok"}]


def test_call_tool_refuses_and_audits_the_refusal(target):
    audit = []
    call_tool = target.load("permissions").call_tool
    with pytest.raises(PermissionError):
        call_tool(TOOLS, POLICY, audit, "ana", "viewer", "refund_order", {"order_id": "7"})
    with pytest.raises(PermissionError):
        call_tool(TOOLS, POLICY, audit, "ana", "admin", "format_disk", {})  # allowed by pattern, but no such tool
    assert [(e["tool"], e["decision"], e["outcome"]) for e in audit] == [
        ("refund_order", "denied", "denied"), ("format_disk", "denied", "denied")]


def test_call_tool_audits_a_failing_tool_and_lets_the_error_through(target):
    audit = []
    with pytest.raises(RuntimeError, match="disk full"):
        target.load("permissions").call_tool(TOOLS, POLICY, audit, "ana", "viewer", "lookup_broken", {"order_id": "1"})
    assert audit == [{"user": "ana", "role": "viewer", "tool": "lookup_broken", "decision": "allowed",
                      "outcome": "error"}]


# --- l09.2 the intent router --------------------------------------------------------

AGENTS = {"billing": "invoices, refunds and payments", "tech": "devices that do not work",
          "general": "anything else"}


class LabelModel:
    def __init__(self, probs):
        self.probs, self.asked = probs, []

    def label_logprobs(self, messages, labels):
        self.asked.append((messages, list(labels)))
        return {label: math.log(self.probs[label]) - 700 for label in labels}  # very negative, as real ones can be


def test_route_intent_picks_the_likeliest_agent(target):
    model = LabelModel({"billing": 0.6, "tech": 0.1, "general": 0.1})
    name, p = target.load("intent").route_intent(model, "I was charged twice", AGENTS, fallback="general")
    assert name == "billing" and math.isclose(p, 0.75)
    (messages, labels), = model.asked
    assert labels == ["billing", "tech", "general"] and messages[-1] == {"role": "user", "content": "I was charged twice"}
    assert messages[0]["role"] == "system" and all(f"- {n}: {d}" in messages[0]["content"] for n, d in AGENTS.items())


def test_route_intent_falls_back_when_unsure(target):
    model = LabelModel({"billing": 0.4, "tech": 0.35, "general": 0.25})
    assert target.load("intent").route_intent(model, "hmm", AGENTS, fallback="general",
                                              threshold=0.5) == ("general", pytest.approx(0.4))
    _, p = target.load("intent").route_intent(model, "hmm", AGENTS, fallback="general", threshold=0.5)
    assert target.load("intent").route_intent(model, "hmm", AGENTS, fallback="general",
                                              threshold=p)[0] == "billing", "exactly at the threshold is sure enough"
    with pytest.raises(ValueError):
        target.load("intent").route_intent(model, "hmm", AGENTS, fallback="sales")


def test_route_intent_on_the_real_model(target, smollm2):
    name, p = target.load("intent").route_intent(smollm2, "My invoice is wrong, I want a refund.", AGENTS,
                                                 fallback="general", threshold=0.0)
    assert name in AGENTS and 1 / len(AGENTS) <= p <= 1.0


def fresh_db() -> str:
    """A new, empty SQLite path (notebooks have no tmp_path fixture)."""
    folder = tempfile.mkdtemp(prefix="l09-")
    atexit.register(shutil.rmtree, folder, True)
    return os.path.join(folder, "sessions.db")


# --- l09.3 sessions that survive a restart -----------------------------------------

TURN = [{"role": "user", "content": "Where is order 7?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "lookup_order", "arguments": "{\"order_id\": \"7\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "order 7: shipped"},
        {"role": "assistant", "content": "It shipped."}]


def test_sessions_round_trip_in_order(target):
    s = target.load("sessions")
    db = fresh_db()
    s.save_messages(db, "ana", TURN[:2])
    s.save_messages(db, "ana", TURN[2:])
    assert s.load_messages(db, "ana") == TURN


def test_sessions_survive_a_restart(target):
    db = fresh_db()
    target.load("sessions").save_messages(db, "ana", TURN)
    # a restart keeps only the file: a copy of it, at a path this process never used, must hold everything
    moved = fresh_db()
    shutil.copy(db, moved)
    assert target.load("sessions").load_messages(moved, "ana") == TURN
    tables = sqlite3.connect(moved).execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'").fetchone()
    assert tables[0] >= 1


def test_sessions_never_cross_users(target):
    s = target.load("sessions")
    db = fresh_db()
    s.save_messages(db, "ana", [{"role": "user", "content": "I am Ana"}])
    s.save_messages(db, "bo", [{"role": "user", "content": "I am Bo"}])
    s.save_messages(db, "ana", [{"role": "assistant", "content": "Hello Ana"}])
    assert [m["content"] for m in s.load_messages(db, "ana")] == ["I am Ana", "Hello Ana"]
    assert [m["content"] for m in s.load_messages(db, "bo")] == ["I am Bo"]
    assert s.load_messages(db, "cy") == []


def test_a_save_is_all_or_nothing(target):
    s = target.load("sessions")
    db = fresh_db()
    s.save_messages(db, "ana", TURN[:1])
    with pytest.raises((TypeError, ValueError)):
        s.save_messages(db, "ana", [{"role": "assistant", "content": "ok"}, {"role": "tool", "content": object()}])
    assert s.load_messages(db, "ana") == TURN[:1]


# --- l09.4 check a deployment file --------------------------------------------------

def shipped(name):
    return yaml.safe_load(shipped_deployment(name).read_text())


def test_the_shipped_files_are_valid(target):
    check = target.load("deployment").check_deployment
    assert check(shipped("single_device")) == [] and check(shipped("distributed_edge")) == []


def test_an_agent_on_an_undefined_model_is_named_by_path(target):
    config = shipped("single_device")
    config["agents"][1]["model"] = "wroker"
    problems = target.load("deployment").check_deployment(config)
    assert len(problems) == 1 and problems[0].startswith("agents[1].model:") and "wroker" in problems[0]


def test_every_problem_is_reported_at_once(target):
    config = shipped("distributed_edge")
    config["deployment"]["mode"] = "cluster"
    config["models"].append({"name": "router", "model": "smollm2-135m"})
    config["nodes"][1]["agents"] = ["reports", "report"]
    problems = target.load("deployment").check_deployment(config)
    paths = sorted(p.split(":")[0] for p in problems)
    assert paths == ["deployment.mode", "models[2].name", "nodes[1].agents[1]"], problems


def test_missing_sections_are_named(target):
    problems = target.load("deployment").check_deployment({"deployment": {"name": "x", "mode": "single_device"}})
    assert sorted(p.split(":")[0] for p in problems) == ["agents", "models"]


def test_nodes_must_match_the_mode(target):
    check = target.load("deployment").check_deployment
    edge = shipped("distributed_edge")
    del edge["nodes"]
    assert [p.split(":")[0] for p in check(edge)] == ["nodes"]
    single = shipped("single_device")
    single["nodes"] = [{"name": "n", "host": "h", "agents": ["orders"]}]
    assert [p.split(":")[0] for p in check(single)] == ["nodes"]
