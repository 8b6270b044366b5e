"""Autograder for lesson 05: SLM first, LLM when needed.

The policy is graded on its promises under hypothesis; the label confidence on
arbitrary log-probabilities and on SmolLM2; the cascade against fakes whose
answers, token log-probabilities and failures are scripted, and on SmolLM2.
"""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from course.backends import Reply, ScriptedBackend
from course.routing.router import FakeCloud, load_tasks

probability = st.floats(0, 1)
money = st.floats(0, 10, allow_nan=False)


# --- l05.1 escalation policy -----------------------------------------------------

@given(probability, probability, st.booleans(), money, money)
def test_decide_keeps_its_promises(target, confidence, threshold, online, cost, left):
    route, reason = target.load("policy").decide(confidence, threshold=threshold, online=online,
                                                 estimated_cost=cost, budget_left=left)
    should_escalate = confidence < threshold and online and cost <= left
    assert route == ("cloud" if should_escalate else "local")
    if not online or cost > left:
        assert route == "local"  # never offline, never over budget
    assert reason in ("confident", "offline", "over budget", "escalate")
    assert (reason == "escalate") == (route == "cloud")


def test_decide_gives_the_first_reason_that_holds(target):
    decide = target.load("policy").decide
    assert decide(0.9, threshold=0.7, online=False, estimated_cost=5, budget_left=0) == ("local", "confident")
    assert decide(0.2, threshold=0.7, online=False, estimated_cost=5, budget_left=0) == ("local", "offline")
    assert decide(0.2, threshold=0.7, online=True, estimated_cost=5, budget_left=1) == ("local", "over budget")
    assert decide(0.2, threshold=0.7, online=True, estimated_cost=0.5, budget_left=1) == ("cloud", "escalate")


def test_decide_refuses_a_confidence_that_is_not_a_probability(target):
    decide = target.load("policy").decide
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError):
            decide(bad, threshold=0.7, online=True, estimated_cost=0.0, budget_left=1.0)


# --- l05.2 confidence from label probabilities -------------------------------------

logprob = st.floats(-2000, 0)


@given(st.dictionaries(st.text(min_size=1, max_size=5), logprob, min_size=1, max_size=6))
def test_normalise_is_a_distribution_over_the_labels(target, logprobs):
    probs = target.load("confidence").normalise(logprobs)
    assert list(probs) == list(logprobs)
    assert math.isclose(sum(probs.values()), 1.0, rel_tol=1e-9)
    assert all(0.0 <= p <= 1.0 for p in probs.values())
    best = max(logprobs, key=logprobs.get)
    assert probs[best] == max(probs.values())


def test_normalise_survives_very_negative_logprobs(target):
    probs = target.load("confidence").normalise({"simple": -1000.0, "complex": -1001.0})
    assert math.isclose(probs["simple"], 1 / (1 + math.exp(-1)), rel_tol=1e-9)
    assert math.isclose(probs["complex"], 1 - 1 / (1 + math.exp(-1)), rel_tol=1e-9)


class LabelModel:
    """A model whose label log-probabilities are given, and which keeps what it was asked."""

    def __init__(self, logprobs):
        self.logprobs = logprobs
        self.asked = []

    def label_logprobs(self, messages, labels):
        self.asked.append((messages, list(labels)))
        return {label: self.logprobs[label] for label in labels}


def test_classify_asks_with_the_instruction_and_the_text(target):
    model = LabelModel({"simple": math.log(0.2), "complex": math.log(0.6)})
    label, probs = target.load("confidence").classify(model, "Classify.", "Plan a trip", ["simple", "complex"])
    assert label == "complex" and math.isclose(probs["complex"], 0.75) and math.isclose(probs["simple"], 0.25)
    assert model.asked == [([{"role": "system", "content": "Classify."}, {"role": "user", "content": "Plan a trip"}],
                            ["simple", "complex"])]


def test_classify_on_the_real_model(target, smollm2):
    instruction = "Answer the question with yes or no."
    label, probs = target.load("confidence").classify(smollm2, instruction, "Is Paris in France?", ["yes", "no"])
    direct = smollm2.label_logprobs([{"role": "system", "content": instruction},
                                     {"role": "user", "content": "Is Paris in France?"}], ["yes", "no"])
    assert label == max(direct, key=direct.get) and math.isclose(sum(probs.values()), 1.0)
    assert math.isclose(probs["yes"] / probs["no"], math.exp(direct["yes"] - direct["no"]), rel_tol=1e-6)


# --- l05.3 a cascade ---------------------------------------------------------------

class SureOrNot(ScriptedBackend):
    """A local model whose replies come with scripted token log-probabilities (when recording is on)."""

    def __init__(self, replies, logprobs):
        super().__init__(replies)
        self.scripted = list(logprobs)
        self.record_logprobs = False
        self.last_logprobs = None
        self.recording = []

    def _generate(self, request):
        self.recording.append(self.record_logprobs)
        self.last_logprobs = self.scripted.pop(0) if self.record_logprobs else None
        yield from super()._generate(request)


TASKS = load_tasks()


def test_cascade_keeps_a_sure_local_answer(target):
    local = SureOrNot([Reply("Paris")], [[-0.01, -0.03]])
    cloud = FakeCloud(TASKS)
    got = target.load("cascade").cascade(TASKS[0].prompt, local, cloud, threshold=0.8)
    assert got == {"answer": "Paris", "route": "local", "confidence": pytest.approx(math.exp(-0.02)),
                   "notice": None}
    assert cloud.requests == 0 and local.recording == [True] and local.record_logprobs is False


def test_cascade_escalates_an_unsure_answer(target):
    local = SureOrNot([Reply("41")], [[-1.0, -0.5, -0.3]])
    cloud = FakeCloud(TASKS)
    got = target.load("cascade").cascade(TASKS[1].prompt, local, cloud, threshold=0.8)
    assert got == {"answer": "42", "route": "cloud", "confidence": pytest.approx(math.exp(-0.6)), "notice": None}
    assert cloud.requests == 1


@pytest.mark.parametrize("failure", ["offline", "dies"])
def test_cascade_keeps_the_local_answer_when_the_cloud_fails(target, failure):
    local = SureOrNot([Reply("about 3000")], [[-2.0]])
    cloud = FakeCloud(TASKS)
    if failure == "offline":
        cloud.online = False
    else:
        cloud.fail_after = 0
    got = target.load("cascade").cascade(TASKS[2].prompt, local, cloud, threshold=0.8)
    assert got["answer"] == "about 3000" and got["route"] == "local"
    assert got["notice"] and ("offline" in got["notice"] or "503" in got["notice"])


def test_cascade_on_the_real_model(target, smollm2):
    prompt = "What is the capital of France? Answer with the city only."
    cloud = FakeCloud(TASKS)
    cloud.online = False
    got = target.load("cascade").cascade(prompt, smollm2, cloud, threshold=1.0, max_tokens=8)
    assert smollm2.record_logprobs is False
    smollm2.record_logprobs = True
    try:
        again = smollm2.chat([{"role": "user", "content": prompt}], temperature=0, max_tokens=8)
        expected = math.exp(sum(smollm2.last_logprobs) / len(smollm2.last_logprobs))
    finally:
        smollm2.record_logprobs = False
    assert got["answer"] == again.content and got["confidence"] == pytest.approx(expected, rel=1e-6)
    assert got["route"] == "local" and (got["notice"] is not None) == (expected < 1.0)
