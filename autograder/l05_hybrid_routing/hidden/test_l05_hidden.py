"""Hidden tests of lesson 05: the edges a quick solution gets wrong."""

import math

import pytest

from course.backends import BackendError, Reply, ScriptedBackend
from course.routing.router import FakeCloud, load_tasks

TASKS = load_tasks()


def test_decide_at_the_threshold_stays_local(target):
    assert target.load("policy").decide(0.7, threshold=0.7, online=True, estimated_cost=0.0,
                                        budget_left=1.0) == ("local", "confident")


def test_decide_spends_exactly_what_is_left(target):
    assert target.load("policy").decide(0.1, threshold=0.7, online=True, estimated_cost=0.25,
                                        budget_left=0.25) == ("cloud", "escalate")


def test_normalise_refuses_no_labels_and_keeps_a_single_one(target):
    normalise = target.load("confidence").normalise
    with pytest.raises(ValueError):
        normalise({})
    assert normalise({"only": -5000.0}) == {"only": 1.0}


class Broken(ScriptedBackend):
    def __init__(self):
        super().__init__([])
        self.record_logprobs = False
        self.last_logprobs = None

    def _generate(self, request):
        raise BackendError("the local model crashed")
        yield


def test_cascade_switches_recording_off_even_when_the_local_model_fails(target):
    local = Broken()
    with pytest.raises(BackendError):
        target.load("cascade").cascade(TASKS[0].prompt, local, FakeCloud(TASKS), threshold=0.5)
    assert local.record_logprobs is False


class Sure(ScriptedBackend):
    def __init__(self, reply, logprobs):
        super().__init__([Reply(reply)])
        self.record_logprobs, self.last_logprobs, self.logprobs = False, None, logprobs

    def _generate(self, request):
        self.last_logprobs = self.logprobs if self.record_logprobs else None
        yield from super()._generate(request)


def test_cascade_confidence_at_the_threshold_stays_local(target):
    cloud = FakeCloud(TASKS)
    got = target.load("cascade").cascade(TASKS[0].prompt, Sure("Paris", [0.0, 0.0]), cloud, threshold=1.0)
    assert got["route"] == "local" and got["confidence"] == 1.0 and cloud.requests == 0
    assert math.isclose(target.load("cascade").cascade(TASKS[0].prompt, Sure("x", [math.log(0.5)]), cloud,
                                                       threshold=0.1)["confidence"], 0.5)
