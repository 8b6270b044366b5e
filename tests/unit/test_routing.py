"""Lesson 05's routing pieces: the escalation policy's promises under hypothesis, costs, the confidence signal."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from course.routing import CloudPrice, EscalationPolicy, LocalPrice, classify, normalise

probability = st.floats(0, 1)
money = st.floats(0, 5, allow_nan=False)


@given(st.floats(0, 1), st.floats(0, 10), st.lists(st.tuples(probability, st.booleans(), money), max_size=40))
def test_the_policy_keeps_its_promises(threshold, budget, tasks):
    policy = EscalationPolicy(threshold=threshold, budget=budget)
    for confidence, online, cost in tasks:
        before = policy.left
        d = policy.decide(confidence, online=online, estimated_cost=cost)
        if not online:
            assert d.route == "local"  # never escalates offline
        if confidence >= threshold:
            assert d.route == "local"  # confident: stays local
        if online and confidence < threshold and cost <= before:
            assert d.route == "cloud"  # unsure, online, affordable: escalates
        if d.route == "cloud":
            policy.charge(cost)
        assert policy.spent <= budget + 1e-9  # never over budget


def test_the_policy_says_why():
    policy = EscalationPolicy(threshold=0.7, budget=0.01)
    assert policy.decide(0.9, online=True, estimated_cost=0.001).reason == "confident"
    assert policy.decide(0.2, online=False, estimated_cost=0.001).reason == "offline"
    assert policy.decide(0.2, online=True, estimated_cost=0.02).reason == "over budget"
    assert policy.decide(0.2, online=True, estimated_cost=0.001).reason == "escalate"
    with pytest.raises(ValueError):
        EscalationPolicy(threshold=1.5)
    with pytest.raises(ValueError):
        policy.decide(2.0, online=True, estimated_cost=0)


def test_costs_follow_their_units():
    assert CloudPrice(input_per_m=2.5, output_per_m=10).cost(1_000_000, 100_000) == pytest.approx(3.5)
    assert LocalPrice(watts=15, dollars_per_kwh=0.30).cost(3600) == pytest.approx(0.0045)


@given(st.dictionaries(st.text(min_size=1, max_size=5), st.floats(-1e4, 0), min_size=1, max_size=6))
def test_normalise_is_a_distribution_in_the_same_order(logprobs):
    probs = normalise(logprobs)
    assert math.isclose(sum(probs.values()), 1.0)
    best = max(logprobs, key=logprobs.get)
    assert probs[best] == max(probs.values())


def test_label_probabilities_from_the_real_model(smollm2):
    instruction = "Answer with one word: yes or no."
    sure = classify(smollm2, instruction, "Is Paris in France?", ["yes", "no"])
    assert sure.label in ("yes", "no") and math.isclose(sum(sure.probabilities.values()), 1.0)
    direct = smollm2.label_logprobs([{"role": "system", "content": instruction},
                                     {"role": "user", "content": "Is Paris in France?"}], ["yes", "no"])
    assert all(v < 0 for v in direct.values())
    assert sure.label == max(direct, key=direct.get)
    # a label's log-probability is the sum over its tokens: a longer answer starting the same way is less likely
    longer = smollm2.label_logprobs([{"role": "system", "content": instruction},
                                     {"role": "user", "content": "Is Paris in France?"}], ["yes", "yes, it is"])
    assert longer["yes, it is"] < longer["yes"] and math.isclose(longer["yes"], direct["yes"], rel_tol=1e-6)
    with pytest.raises(ValueError):
        smollm2.label_logprobs([{"role": "user", "content": "x"}], ["a", "a"])


# -- the router, with fakes for every model ---------------------------------------------
from course.backends import Reply, ScriptedBackend  # noqa: E402
from course.routing.router import FakeCloud, HybridRouter, load_tasks  # noqa: E402


class FakeRouter:
    """A router model whose P(simple) is scripted, task by task."""

    def __init__(self, p_simple):
        self.p = list(p_simple)

    def label_logprobs(self, messages, labels):
        p = self.p.pop(0)
        return {"simple": math.log(p), "complex": math.log(1 - p)}


def test_the_shipped_tasks_are_well_formed():
    tasks = load_tasks()
    assert len(tasks) >= 25 and len({t.id for t in tasks}) == len(tasks)
    assert {t.kind for t in tasks} == {"routine", "complex"}
    for t in tasks:
        assert t.is_correct(t.answer) in (True, None), t.id  # the reference answer passes its own check
        assert t.is_correct("I am not sure.") in (False, None), t.id


def test_router_keeps_confident_tasks_local_and_escalates_the_rest():
    tasks = load_tasks()[:3]
    cloud = FakeCloud(tasks)
    local = ScriptedBackend([Reply("Paris"), Reply("41")])
    policy = EscalationPolicy(threshold=0.7, budget=1.0)
    router = HybridRouter(FakeRouter([0.95, 0.3, 0.9]), local, cloud, policy)
    first, second, third = (router.run(t.prompt) for t in tasks)
    assert (first.route, first.reason, first.answer) == ("local", "confident", "Paris")
    assert (second.route, second.answer) == ("cloud", "42") and second.cost > 0
    assert policy.spent == pytest.approx(second.cost)
    assert third.route == "local" and third.answer == "41"


def test_offline_and_a_dying_cloud_degrade_to_a_local_answer_with_a_notice():
    tasks = load_tasks()[:3]
    cloud = FakeCloud(tasks)
    online = [False]
    local = ScriptedBackend([Reply("local one"), Reply("local two")])
    router = HybridRouter(FakeRouter([0.1, 0.1]), local, cloud, EscalationPolicy(), online=lambda: online[0])
    offline = router.run(tasks[0].prompt)
    assert (offline.route, offline.reason, offline.notice) == ("local", "offline", None)
    online[0] = True
    cloud.online = False  # the endpoint dies after the router decided it was up
    failed = router.run(tasks[1].prompt)
    assert failed.route == "local" and failed.reason == "cloud failed" and failed.answer == "local two"
    assert "cloud failed" in failed.notice and router.policy.spent == 0


def test_the_budget_stops_escalation():
    tasks = load_tasks()[:2]
    local = ScriptedBackend([Reply("a"), Reply("b")])
    router = HybridRouter(FakeRouter([0.1, 0.1]), local, FakeCloud(tasks), EscalationPolicy(budget=0.0))
    assert [router.run(t.prompt).reason for t in tasks] == ["over budget", "over budget"]


def test_routing_bench_runs_the_four_ways_on_real_models(model_file):
    from course.routing.bench import bench_routing

    tasks = [t for t in load_tasks() if t.id in ("capital", "add", "train", "essay")]
    result = bench_routing(tasks=tasks, max_tokens=24)
    assert model_file(result.router_model).is_file() and model_file(result.local_model).is_file()
    local, routed, cloud = (result.runs[k] for k in ("all local", "routed", "all cloud"))
    assert local.local_share == 1.0 and cloud.local_share == 0.0 and 0.0 <= routed.local_share <= 1.0
    assert cloud.checked == local.checked == 3 and cloud.correct == 3  # the fake cloud knows every answer
    assert local.cost > 0 and cloud.cost > 0  # energy of measured seconds; tokens at assumed prices
    assert [t["id"] for t in result.per_task] == [t.id for t in tasks]
    assert all(0.0 <= t["p_simple"] <= 1.0 and 0.0 < t["answer_confidence"] <= 1.0 for t in result.per_task)
    cascade = result.runs["cascade"]
    assert cascade.tasks == 4 and cascade.cost >= local.cost * 0.5  # a cascade always pays for the local answer
    # the sweep's extremes: threshold 0.5 vs 0.95 keep at least as many tasks local as any higher one
    for signal in ("router", "self"):
        shares = [r.local_share for r in result.sweep if r.signal == signal]
        assert shares == sorted(shares, reverse=True) and len(shares) == 7
    data = result.to_dict()
    assert data["claims"]["local_share"].startswith("SLMs handle 70-80%")
    assert set(data["cost_ratio_cloud_over_routed"]) == {"routed", "cascade"}
    right, routine = result.routine_handled()
    assert routine == 2 and 0 <= right <= 2 and data["routine_handled_locally"] == {"correct": right, "of": 2}


@given(st.lists(st.floats(min_value=-30, max_value=0), min_size=1, max_size=50))
def test_answer_confidence_is_the_geometric_mean_probability(logprobs):
    from course.routing import answer_confidence

    c = answer_confidence(logprobs)
    assert 0.0 <= c <= 1.0
    assert min(math.exp(x) for x in logprobs) - 1e-12 <= c <= max(math.exp(x) for x in logprobs) + 1e-12


def test_answer_confidence_refuses_what_is_not_a_log_probability():
    from course.routing import answer_confidence

    for bad in ([], [0.5], [float("nan")], [-float("inf")]):
        with pytest.raises(ValueError):
            answer_confidence(bad)


def test_recorded_logprobs_are_the_chosen_tokens_own(smollm2):
    """The first recorded log-probability is the one label_logprobs reads for the reply's first token."""
    messages = [{"role": "user", "content": "What is the capital of France? Answer with the city only."}]
    smollm2.record_logprobs = True
    try:
        reply = smollm2.chat(messages, temperature=0, max_tokens=8)
        recorded = list(smollm2.last_logprobs)
    finally:
        smollm2.record_logprobs = False
    assert len(recorded) >= reply.usage.completion_tokens and all(x <= 0 for x in recorded)
    first = smollm2.llm.detokenize(smollm2.llm.tokenize(reply.content.encode(), add_bos=False)[:1]).decode()
    assert math.isclose(smollm2.label_logprobs(messages, [first])[first], recorded[0], abs_tol=1e-3)
    smollm2.chat(messages, temperature=0.7, max_tokens=4)
    assert smollm2.last_logprobs is None  # sampled replies are not recorded: the chosen token is not the top one


class FakeLocal(ScriptedBackend):
    """A local model whose answers come with scripted token log-probabilities."""

    def __init__(self, replies, logprobs):
        super().__init__(replies)
        self.scripted = list(logprobs)
        self.record_logprobs = False
        self.last_logprobs = None
        self.calls = 0

    def _generate(self, request):
        self.calls += 1
        self.last_logprobs = self.scripted.pop(0) if self.record_logprobs else None
        yield from super()._generate(request)


def test_the_cascade_answers_locally_first_and_keeps_its_answer_when_the_cloud_dies():
    tasks = load_tasks()[:3]
    cloud = FakeCloud(tasks)
    local = FakeLocal([Reply("Paris"), Reply("41"), Reply("maybe")],
                      [[-0.01, -0.02], [-1.5, -0.2], [-2.0]])
    router = HybridRouter(None, local, cloud, EscalationPolicy(threshold=0.8), signal="self")
    sure, unsure = router.run(tasks[0].prompt), router.run(tasks[1].prompt)
    assert (sure.route, sure.answer) == ("local", "Paris") and sure.confidence > 0.9
    assert (unsure.route, unsure.answer) == ("cloud", "42") and unsure.confidence < 0.8
    cloud.online = False
    kept = router.run(tasks[2].prompt)
    assert (kept.route, kept.reason, kept.answer) == ("local", "cloud failed", "maybe") and "cloud failed" in kept.notice
    assert local.calls == 3  # the local answer is reused, never generated twice
    assert local.record_logprobs is False  # switched back off after each answer


def test_the_router_refuses_a_signal_it_cannot_compute():
    tasks = load_tasks()[:1]
    with pytest.raises(ValueError, match="records token log-probabilities"):
        HybridRouter(None, ScriptedBackend([]), FakeCloud(tasks), EscalationPolicy(), signal="self")
    with pytest.raises(ValueError, match="needs a router model"):
        HybridRouter(None, ScriptedBackend([]), FakeCloud(tasks), EscalationPolicy())
    with pytest.raises(ValueError, match="signal must be"):
        HybridRouter(None, ScriptedBackend([]), FakeCloud(tasks), EscalationPolicy(), signal="vibes")
