"""Lesson 09's framework patterns: sessions, permissions and audit, orchestration, edge-cloud, config, limits, alerts."""

import math
import sqlite3
import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from course.agent import Agent
from course.backends import BackendError, Reply, ScriptedBackend
from course.backends.fake import CallTool, Raise
from course.framework import (AgentPool, AlertRule, Busy, DeploymentError, EdgeCloudBackend, IntentRouter, Monitor,
                              Orchestrator, PermissionDenied, PersistentAgent, SessionStore, SessionStoreError,
                              Supervisor, ToolRegistry, check_deployment, load_deployment, shipped_deployment,
                              switch_backend)
from course.tools import Tool, tool


def order_tool(name: str, outcome: str) -> Tool:
    def act(order_id: str) -> str:
        return f"order {order_id}: {outcome}"

    return Tool(act, name=name, description=f"The order, {outcome}.")


lookup_order, refund_order = order_tool("lookup_order", "shipped"), order_tool("refund_order", "refunded")


def call(name, **arguments):
    return CallTool(name, arguments)


# -- sessions ---------------------------------------------------------------------------

def test_sessions_survive_a_restart_and_never_cross_users(tmp_path):
    path = tmp_path / "sessions.db"
    store = SessionStore(path)
    agent = PersistentAgent(Agent(ScriptedBackend([Reply("Hello Ana."), Reply("Hello Bo.")])), store)
    agent.ask("ana", "I am Ana.")
    agent.ask("bo", "I am Bo.")
    store.close()

    backend = ScriptedBackend([Reply("You are Ana.")])
    again = PersistentAgent(Agent(backend), SessionStore(path))  # a new process would do the same
    turn = again.ask("ana", "Who am I?")
    sent = backend.requests[0].messages
    assert [m["content"] for m in sent[1:]] == ["I am Ana.", "Hello Ana.", "Who am I?"]  # Bo's turn is not there
    assert turn.stored == 2 and len(again.store.load("ana")) == 4 and len(again.store.load("bo")) == 2
    assert again.store.sessions("ana") == ["default"]


def test_a_turn_with_tools_is_stored_whole_and_reloads_in_order():
    store = SessionStore()
    agent = PersistentAgent(Agent(ScriptedBackend([call("lookup_order", order_id="7"), Reply("It shipped.")]),
                                  [lookup_order]), store)
    agent.ask("ana", "Where is order 7?")
    roles = [m["role"] for m in store.load("ana")]
    assert roles == ["user", "assistant", "tool", "assistant"]
    assert store.load("ana")[2]["content"] == "order 7: shipped"


def test_a_failed_turn_leaves_the_history_usable():
    store = SessionStore()

    with pytest.raises(Exception, match="crashed"):
        PersistentAgent(Agent(ScriptedBackend([Raise(BackendError("the model crashed"))])), store).ask("ana", "hi")
    assert store.load("ana") == []  # nothing half-written


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path):
    bad = tmp_path / "notes.db"
    bad.write_bytes(b"these are my notes, not SQLite" * 50)
    with pytest.raises(SessionStoreError, match="move it away"):
        SessionStore(bad)
    assert bad.read_bytes().startswith(b"these are my notes")  # and it is left as it was
    with pytest.raises(ValueError):
        SessionStore().load("", "x")


# -- permissions and audit -------------------------------------------------------------

POLICY = {"viewer": {"tools": ["lookup_*"]}, "clerk": {"inherits": ["viewer"], "tools": ["refund_order"]}}


def test_roles_see_only_their_tools_and_every_call_is_audited():
    registry = ToolRegistry(POLICY)
    registry.register(lookup_order, refund_order)
    assert [t.name for t in registry.tools_for("ana", "viewer")] == ["lookup_order"]
    assert [t.name for t in registry.tools_for("bo", "clerk")] == ["lookup_order", "refund_order"]
    assert registry.tools_for("eve", "intruder") == []
    assert registry.call("bo", "clerk", "refund_order", {"order_id": "7"}) == "order 7: refunded"
    with pytest.raises(PermissionDenied, match="may not call"):
        registry.call("ana", "viewer", "refund_order", '{"order_id": "7"}')
    with pytest.raises(PermissionDenied, match="no role 'intruder'"):
        registry.call("eve", "intruder", "lookup_order", {"order_id": "1"})
    log = registry.audit.entries()
    assert [(e.user, e.tool, e.decision, e.outcome) for e in log] == [
        ("bo", "refund_order", "allowed", "ok"), ("ana", "refund_order", "denied", "denied"),
        ("eve", "lookup_order", "denied", "denied")]
    assert len(registry.audit.entries(decision="denied")) == 2


def test_an_agent_acting_for_a_viewer_cannot_refund_even_if_the_model_tries():
    registry = ToolRegistry(POLICY)
    registry.register(lookup_order, refund_order)
    backend = ScriptedBackend([call("refund_order", order_id="7"), Reply("I cannot refund that.")])
    agent = Agent(backend, registry.tools_for("ana", "viewer"))
    result = agent.run("Refund order 7")
    assert "unknown tool 'refund_order'" in result.trace.tool_steps[0].content  # never offered
    guarded = registry.tools_for("ana", "viewer")[0]
    assert guarded.spec() == lookup_order.spec()  # the model sees the same schema
    guarded.invoke({"order_id": "3"})
    assert registry.audit.entries(user="ana")[-1].tool == "lookup_order"


def test_a_failing_tool_is_audited_as_an_error():
    @tool
    def flaky(x: int) -> int:
        """Fail.

        Args:
            x: anything.
        """
        raise RuntimeError("disk full")

    registry = ToolRegistry({"ops": {"tools": ["*"]}})
    registry.register(flaky)
    with pytest.raises(RuntimeError):
        registry.call("ana", "ops", "flaky", {"x": 1})
    entry = registry.audit.entries()[-1]
    assert (entry.decision, entry.outcome) == ("allowed", "error") and "disk full" in entry.detail


def test_policy_errors_are_caught_when_it_is_built():
    with pytest.raises(ValueError, match="unknown roles"):
        ToolRegistry({"a": {"inherits": ["b"]}})
    with pytest.raises(ValueError, match="unknown keys"):
        ToolRegistry({"a": {"tool": ["x"]}})
    cyclic = ToolRegistry({"a": {"inherits": ["b"], "tools": ["x"]}, "b": {"inherits": ["a"]}})
    assert cyclic.policy.allows("b", "x") and not cyclic.policy.allows("b", "y")


# -- orchestration ---------------------------------------------------------------------

class LabelModel:
    def __init__(self, probs):
        self.probs = probs

    def label_logprobs(self, messages, labels):
        return {label: math.log(self.probs.get(label, 1e-9)) for label in labels}


class Specialist:
    def __init__(self, answer=None, error=None):
        self.answer, self.error, self.asked = answer, error, []

    def run(self, text, *, history=()):
        self.asked.append(text)
        if self.error:
            raise self.error
        return type("R", (), {"answer": self.answer, "stop_reason": "answer" if self.answer else "max_steps"})()


AGENTS = {"billing": "invoices, refunds, payments", "tech": "devices that do not work",
          "general": "anything else"}


def test_intent_routing_with_a_fallback_below_the_threshold():
    sure = IntentRouter(LabelModel({"billing": 0.9, "tech": 0.05, "general": 0.05}), AGENTS, fallback="general")
    assert (sure.route("refund me").agent, sure.route("refund me").fell_back) == ("billing", False)
    unsure = IntentRouter(LabelModel({"billing": 0.4, "tech": 0.35, "general": 0.25}), AGENTS, fallback="general")
    got = unsure.route("hmm")
    assert got.agent == "general" and got.fell_back and math.isclose(got.confidence, 0.4)
    with pytest.raises(ValueError, match="fallback"):
        IntentRouter(LabelModel({}), AGENTS, fallback="nobody")
    with pytest.raises(ValueError, match="lower-case"):
        IntentRouter(LabelModel({}), {"Tech Support": "x"}, fallback="Tech Support")


def test_the_orchestrator_falls_back_when_a_specialist_fails():
    router = IntentRouter(LabelModel({"billing": 0.9}), AGENTS, fallback="general")
    general = Specialist("I can help with that in general terms.")
    orchestrator = Orchestrator(router, {"billing": Specialist(error=BackendError("billing model down")),
                                         "tech": Specialist("t"), "general": general})
    got = orchestrator.handle("refund me")
    assert got.agent == "general" and got.answer.startswith("I can help") and "billing model down" in got.notice
    orchestrator.specialists["billing"] = Specialist(None)  # ran out of steps
    assert orchestrator.handle("refund me").agent == "general"
    orchestrator.specialists["general"] = Specialist(error=RuntimeError("also down"))
    last = orchestrator.handle("refund me")
    assert last.answer is None and "no agent could answer" in last.notice and len(last.errors) == 2


def test_intent_router_on_the_real_model_names_an_agent(smollm2):
    router = IntentRouter(smollm2, AGENTS, fallback="general", threshold=0.5)
    got = router.route("My invoice charged me twice, I want a refund.")
    assert got.agent in AGENTS and math.isclose(sum(got.probabilities.values()), 1.0)
    assert got.fell_back == (max(got.probabilities.values()) < 0.5)


def test_a_supervisor_delegates_through_tools():
    math_worker = Agent(ScriptedBackend([Reply("56")]))
    manager = ScriptedBackend([call("ask_math", request="7 times 8"), Reply("The answer is 56.")])
    boss = Supervisor(manager, {"math": ("does arithmetic", math_worker)})
    result = boss.run("What is 7 times 8?")
    assert result.answer == "The answer is 56." and boss.calls == [("math", "7 times 8", "56")]
    assert manager.requests[0].tools[0]["function"]["name"] == "ask_math"


# -- edge and cloud --------------------------------------------------------------------

class Slow(ScriptedBackend):
    def __init__(self, seconds):
        super().__init__([Reply("too late")])
        self.seconds = seconds

    def _generate(self, request):
        time.sleep(self.seconds)
        yield from super()._generate(request)


def test_edge_cloud_degrades_on_failure_and_timeout_and_trips_the_breaker():
    now = [0.0]
    cloud = ScriptedBackend([Reply("cloud answer")])
    local = ScriptedBackend([Reply(f"local {i}") for i in range(6)])
    backend = EdgeCloudBackend(local, cloud, escalate=lambda m: True, timeout_s=0.3, trip_after=2, cooldown_s=60,
                               clock=lambda: now[0])
    assert backend.chat([{"role": "user", "content": "a"}]).content == "cloud answer"
    backend.cloud = Slow(2.0)
    assert backend.chat([{"role": "user", "content": "b"}]).content == "local 0"
    assert backend.log[-1].reason == "cloud timed out" and "within 0.3 s" in backend.log[-1].notice
    backend.cloud = ScriptedBackend([Raise(BackendError("HTTP 503"))])
    assert backend.chat([{"role": "user", "content": "c"}]).content == "local 1"
    assert backend.degraded  # two failures in a row: the breaker is open
    assert backend.chat([{"role": "user", "content": "d"}]).content == "local 2"
    assert backend.log[-1].reason == "circuit open" and backend.log[-1].seconds < 0.3
    now[0] = 61.0  # after the cool-down one request tests the cloud again
    backend.cloud = ScriptedBackend([Reply("back")])
    assert backend.chat([{"role": "user", "content": "e"}]).content == "back" and not backend.degraded
    assert [r.route for r in backend.log] == ["cloud", "local", "local", "local", "cloud"]


def test_killing_the_cloud_mid_conversation_loses_nothing(tmp_path, smollm2):
    """The issue's check: a real OpenAI-compatible cloud (course serve) dies between turns."""
    from course.backends.openai_compat import OpenAICompatBackend
    from course.servers import CourseServer

    store = SessionStore(tmp_path / "s.db")
    with CourseServer(port=0, models=["smollm2-135m"]) as server:
        cloud = OpenAICompatBackend(server.url + "/v1", "smollm2-135m", timeout=30)
        backend = EdgeCloudBackend(smollm2, cloud, escalate=lambda m: True, timeout_s=30)
        agent = PersistentAgent(Agent(backend, max_tokens=24), store)
        first = agent.ask("ana", "Say hello.")
        assert first.answer and backend.log[-1].route == "cloud"
    # the server is gone: the next turn is answered locally, with a notice, and stored
    second = agent.ask("ana", "Say goodbye.")
    assert second.answer and backend.log[-1].route == "local" and "local model answered" in backend.log[-1].notice
    history = SessionStore(tmp_path / "s.db").load("ana")
    assert [m["content"] for m in history if m["role"] == "user"] == ["Say hello.", "Say goodbye."]
    backend.close()


# -- deployment files ------------------------------------------------------------------

def test_the_shipped_deployments_are_valid():
    for name in ("single_device", "distributed_edge"):
        config = load_deployment(shipped_deployment(name))
        assert config["deployment"]["mode"] == name


def test_deployment_errors_name_their_path(tmp_path):
    import yaml

    config = yaml.safe_load(shipped_deployment("distributed_edge").read_text())
    config["agents"][1]["model"] = "wroker"
    config["nodes"][1]["agents"] = ["report"]
    config["resources"]["max_concurrent_agents"] = 0
    del config["cloud"]
    problems = check_deployment(config)
    assert "agents[1].model: 'wroker' is not defined under models (did you mean 'worker'?)" in problems
    assert any(p.startswith("nodes[1].agents[0]: 'report'") and "'reports'" in p for p in problems)
    assert "resources.max_concurrent_agents: must be positive, got 0" in problems
    assert any(p.startswith("agents[1].escalate_to_cloud") for p in problems)
    assert any("monitoring.alerts[0].action" in p for p in problems)
    bad = tmp_path / "bad.yaml"
    bad.write_text("deployment: {name: x, mode: single_device\nmodels: []\n")
    with pytest.raises(DeploymentError, match="line 2"):
        load_deployment(bad)
    with pytest.raises(DeploymentError, match="does not exist"):
        load_deployment(tmp_path / "missing.yaml")
    assert check_deployment([1, 2])[0].startswith("(top level)")


# -- limits and monitoring -------------------------------------------------------------

def test_the_pool_caps_concurrent_agents_and_refuses_clearly():
    pool = AgentPool(2, wait_s=0.2)
    release = threading.Event()
    threads = [threading.Thread(target=pool.run, args=(release.wait,)) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(0.05)
    with pytest.raises(Busy, match="all 2 agent slots"):
        pool.run(lambda: None)
    release.set()
    for t in threads:
        t.join()
    assert pool.peak == 2 and pool.refused == 1 and pool.run(lambda: 5) == 5


@given(st.lists(st.tuples(st.floats(0, 10), st.booleans()), min_size=1, max_size=80))
def test_alerts_fire_once_per_episode(samples):
    fired = []
    monitor = Monitor([AlertRule("slow", "p95_latency_s", above=5.0, action=lambda a, m: fired.append(m),
                                 min_requests=3)], window=10)
    holding = False
    for seconds, ok in samples:
        started = monitor.observe("support", seconds, ok)
        m = monitor.metrics("support")
        now = m["requests"] >= 3 and m["p95_latency_s"] > 5.0
        assert bool(started) == (now and not holding)
        holding = now
    assert len(fired) == len(monitor.alerts)


def test_an_alert_switches_the_agent_to_another_model():
    agent = Agent(ScriptedBackend([Reply("x")], model="big"))
    small = ScriptedBackend([Reply("y")], model="small")
    log = []
    monitor = Monitor([AlertRule("slow", "p95_latency_s", above=1.0, action=switch_backend(agent, small, log=log),
                                 min_requests=2)])
    monitor.observe("support", 3.0, True)
    assert agent.backend.model == "big"
    monitor.observe("support", 3.0, True)
    assert agent.backend is small and log[0].startswith("support: switched from big to small")
    with pytest.raises(ValueError, match="unknown metric"):
        AlertRule("x", "latency", above=1)
    with pytest.raises(Exception):
        monitor.timed("support", lambda: 1 / 0)
    assert monitor.metrics("support")["success_rate"] < 1
    assert sqlite3  # the stores above are plain sqlite3 files
