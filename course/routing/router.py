"""SLM first, LLM when needed: the hybrid router of lesson 05.

For each task:

1. a confidence that the local model suffices, from one of two signals
   (:mod:`course.routing.signals`):

   - ``signal="router"``: the small router model (SmolLM2-135M) classifies the
     task as ``simple`` or ``complex`` before anyone answers; the confidence is
     the probability it gives ``simple``;
   - ``signal="self"`` (a cascade): the local model answers first and the
     confidence is the mean probability of the tokens it chose;

2. the :class:`~course.routing.policy.EscalationPolicy` decides: local when
   confident, offline, or over budget; the cloud otherwise;
3. the chosen model answers (in a cascade the local answer already exists). If
   the cloud fails or times out, the local model's answer is used instead and
   the result carries a notice saying so: the task is never lost.

The "cloud" in the course is :class:`FakeCloud`, a stand-in that answers every
task of the shipped set correctly after an *assumed* latency: an upper bound
on what a large model would do, priced with an assumed price list.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources

from ..backends.base import ChatBackend
from ..backends.types import BackendError, BackendUnavailableError, ChatRequest, Delta, Usage
from .cost import CostModel
from .policy import Decision, EscalationPolicy
from .signals import COMPLEXITY_INSTRUCTION, answer_confidence, classify


@dataclass(frozen=True)
class Task:
    id: str
    kind: str  # the author's label: routine | complex
    prompt: str
    check: str | None  # a regular expression a correct answer matches, or None
    answer: str

    def is_correct(self, text: str | None) -> bool | None:
        """True or False where the task can be checked, None where it cannot."""
        if self.check is None:
            return None
        return bool(text) and re.search(self.check, text.strip(), re.I) is not None


def load_tasks(path=None) -> list[Task]:
    """The shipped task set (``course/data/routing_tasks.json``) or another file of the same shape."""
    text = (open(path, encoding="utf-8").read() if path
            else resources.files("course.data").joinpath("routing_tasks.json").read_text(encoding="utf-8"))
    return [Task(**t) for t in json.loads(text)["tasks"]]


class FakeCloud(ChatBackend):
    """A large hosted model, faked: the reference answer of each known task, after an assumed latency.

    ``online = False`` makes it unreachable (``BackendUnavailableError``); ``fail_after``
    makes it fail from the n-th request on, like an endpoint that dies mid-run.
    The latency is reported, not slept: ``base_latency_s + tokens / tokens_per_s``.
    """

    name = "fake-cloud"

    def __init__(self, tasks: list[Task], *, base_latency_s: float = 0.8, tokens_per_s: float = 60.0,
                 count_tokens: Callable[[str], int] | None = None):
        super().__init__()
        self.model = "fake-cloud"
        self.answers = {t.prompt: t.answer for t in tasks}
        self.base_latency_s = base_latency_s
        self.tokens_per_s = tokens_per_s
        self._count = count_tokens or (lambda text: max(1, round(len(text) / 4)))
        self.online = True
        self.fail_after: int | None = None
        self.requests = 0

    def count_tokens(self, text: str) -> int:
        return self._count(text) if text else 0

    def latency(self, completion_tokens: int) -> float:
        return self.base_latency_s + completion_tokens / self.tokens_per_s

    def _generate(self, request: ChatRequest) -> Iterator[Delta]:
        self.requests += 1
        if not self.online:
            raise BackendUnavailableError("the cloud endpoint cannot be reached (offline)")
        if self.fail_after is not None and self.requests > self.fail_after:
            raise BackendError("the cloud endpoint answered HTTP 503")
        question = next((m["content"] for m in reversed(request.messages) if m["role"] == "user"), "")
        answer = self.answers.get(question, "I do not know this task.")
        prompt_tokens = sum(self.count_tokens(m.get("content") or "") for m in request.messages)
        completion = self.count_tokens(answer)
        yield Delta(content=answer, tokens=completion, usage=Usage(prompt_tokens, completion, estimated=True))
        yield Delta(finish_reason="stop")


@dataclass
class Routed:
    task: str
    route: str  # local | cloud
    reason: str  # confident | escalate | offline | over budget | cloud failed
    confidence: float  # P(simple) from the router model
    answer: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float  # routing + answering (cloud: the assumed latency)
    cost: float  # dollars, at the cost model's assumed prices
    notice: str | None = None


class HybridRouter:
    """Route each prompt to the local model or the cloud, and never lose a task."""

    def __init__(self, router: ChatBackend | None, local: ChatBackend, cloud: ChatBackend, policy: EscalationPolicy,
                 cost: CostModel | None = None, *, online: Callable[[], bool] = lambda: True,
                 max_tokens: int = 96, signal: str = "router"):
        if signal not in ("router", "self"):
            raise ValueError(f"signal must be 'router' or 'self', got {signal!r}")
        if signal == "router" and router is None:
            raise ValueError("signal='router' needs a router model (a backend with label_logprobs)")
        if signal == "self" and not hasattr(local, "record_logprobs"):
            raise ValueError(f"signal='self' needs a local backend that records token log-probabilities "
                             f"(LlamaCppBackend); {type(local).__name__} does not")
        self.router, self.local, self.cloud = router, local, cloud
        self.policy = policy
        self.cost = cost or CostModel()
        self.online = online
        self.max_tokens = max_tokens
        self.signal = signal

    def confidence(self, prompt: str) -> float:
        """How sure the router model is that the task is simple (and the local model suffices)."""
        return classify(self.router, COMPLEXITY_INSTRUCTION, prompt, ["simple", "complex"]).probabilities["simple"]

    def _answer_locally(self, messages: list[dict]):
        start = time.perf_counter()
        if self.signal == "self":
            self.local.record_logprobs = True
        try:
            reply = self.local.chat(messages, temperature=0, max_tokens=self.max_tokens)
        finally:
            if self.signal == "self":
                self.local.record_logprobs = False
        return reply, time.perf_counter() - start

    def run(self, prompt: str, *, force: str | None = None) -> Routed:
        """Route and answer ``prompt``; ``force="local"`` or ``"cloud"`` skips the signal (the baselines)."""
        start = time.perf_counter()
        messages = [{"role": "user", "content": prompt}]
        local_reply, local_s = None, 0.0
        if force in ("local", "cloud"):
            confidence, decision = float("nan"), Decision(force, "forced")
        elif force is not None:
            raise ValueError(f"force must be None, 'local' or 'cloud', got {force!r}")
        else:
            if self.signal == "self":
                local_reply, local_s = self._answer_locally(messages)
                confidence = answer_confidence(self.local.last_logprobs or [])
            else:
                confidence = self.confidence(prompt)
            estimate = self.cost.cloud.cost(self.cloud.count_tokens(prompt), self.max_tokens)
            decision = self.policy.decide(confidence, online=self.online(), estimated_cost=estimate)
        notice = None
        if decision.route == "cloud":
            try:
                reply = self.cloud.chat(messages, temperature=0, max_tokens=self.max_tokens)
            except BackendError as exc:
                notice = f"the cloud failed ({exc}); the local model answered instead"
            else:
                cost = self.cost.cloud.cost(reply.usage.prompt_tokens, reply.usage.completion_tokens)
                self.policy.charge(cost)
                assumed = getattr(self.cloud, "latency", None)
                took = assumed(reply.usage.completion_tokens) if assumed else reply.timings.total_s
                return Routed(prompt, "cloud", decision.reason, confidence, reply.content or "",
                              reply.usage.prompt_tokens, reply.usage.completion_tokens,
                              time.perf_counter() - start - reply.timings.total_s + took,
                              cost + self.cost.local.cost(local_s))
        if local_reply is None:
            local_reply, local_s = self._answer_locally(messages)
        return Routed(prompt, "local", "cloud failed" if notice else decision.reason, confidence,
                      local_reply.content or "", local_reply.usage.prompt_tokens,
                      local_reply.usage.completion_tokens, time.perf_counter() - start,
                      self.cost.local.cost(local_s), notice)
