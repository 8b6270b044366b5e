"""Continuous batching, small: which requests run at each step of a vLLM-like engine.

An engine that runs one request at a time (``course serve``, llama.cpp) reads
every weight once per generated token for one user. Reading them once for
sixteen users costs nearly the same: generation is limited by memory
bandwidth (lesson 04), so batching multiplies throughput. **Continuous
batching** re-forms the batch at every step: a request that finishes leaves
at once and a waiting one takes its place, instead of the whole batch
waiting for its slowest member.

Each :meth:`Scheduler.step` gives a *token budget* (``max_num_batched_tokens``)
to at most ``max_num_seqs`` requests:

1. running requests first, in the order they arrived: one token each when
   they are generating, or the next chunk of their prompt (**chunked
   prefill**: a long prompt is processed over several steps, so that it does
   not stall everyone's next token);
2. then waiting requests, oldest first, as long as the budget, the sequence
   limit and the free KV blocks allow. A prompt whose first blocks are in
   the prefix cache starts after them.

When a running request needs a new block and none is free, the scheduler
**preempts** the request that arrived last: it frees all its blocks and puts
it back at the head of the queue, to be computed again from the start later
(*recomputation*; vLLM v1 no longer swaps blocks out to CPU memory).

:func:`simulate` drives the scheduler with a workload and returns what
happened; ``course bench vllm`` sets its predictions beside real vLLM's
``/metrics``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .paged import OutOfBlocks, PagedBlockAllocator


@dataclass
class Request:
    """A request as the scheduler sees it: its prompt, what it has computed, what it has generated."""

    id: str
    prompt: list[int]
    max_tokens: int
    arrival: int = 0  # the step at which it arrives
    computed: int = 0  # positions whose KV is in the cache
    output: list[int] = field(default_factory=list)
    first_token_step: int | None = None
    finish_step: int | None = None
    preemptions: int = 0

    @property
    def tokens(self) -> list[int]:
        return self.prompt + self.output

    @property
    def done(self) -> bool:
        return len(self.output) >= self.max_tokens


@dataclass(frozen=True)
class SchedulerConfig:
    max_num_seqs: int = 256
    max_num_batched_tokens: int = 2048

    def __post_init__(self):
        if self.max_num_seqs < 1 or self.max_num_batched_tokens < 1:
            raise ValueError("max_num_seqs and max_num_batched_tokens must be at least 1")


@dataclass
class StepResult:
    """What one step ran: tokens per request, and who was preempted or admitted."""

    scheduled: dict[str, int]
    preempted: list[str]
    admitted: list[str]

    @property
    def num_tokens(self) -> int:
        return sum(self.scheduled.values())


class Scheduler:
    def __init__(self, allocator: PagedBlockAllocator, config: SchedulerConfig = SchedulerConfig()):
        self.allocator = allocator
        self.config = config
        self.waiting: deque[Request] = deque()
        self.running: list[Request] = []

    def add(self, request: Request) -> None:
        self.waiting.append(request)

    def _grow(self, request: Request, n: int) -> None:
        """Room for ``n`` more positions of a running request (its prompt chunk or its new token)."""
        alloc = self.allocator
        seq = alloc.seqs[request.id]
        tokens = request.tokens
        for i in range(seq.num_tokens, request.computed + n):
            alloc.append_token(request.id, tokens[i])

    def _preempt(self, victim: Request, step: list[str]) -> None:
        self.allocator.free_sequence(victim.id)
        self.running.remove(victim)
        victim.computed = 0
        victim.preemptions += 1
        self.waiting.appendleft(victim)
        step.append(victim.id)

    def step(self) -> StepResult:
        """Choose what runs now (blocks are taken here; :meth:`finish_step` records what was computed)."""
        budget = self.config.max_num_batched_tokens
        scheduled: dict[str, int] = {}
        preempted: list[str] = []
        for request in list(self.running):
            if budget == 0:
                break
            if request not in self.running:  # preempted while an earlier request made room
                continue
            n = min(len(request.tokens) - request.computed, budget)
            while True:
                try:
                    self._grow(request, n)
                    break
                except OutOfBlocks:
                    victim = self.running[-1]
                    self._preempt(victim, preempted)
                    scheduled.pop(victim.id, None)
                    if victim is request:
                        n = 0
                        break
            if n:
                scheduled[request.id] = n
                budget -= n
        admitted: list[str] = []
        while (self.waiting and budget > 0 and not preempted
               and len(self.running) < self.config.max_num_seqs):
            request = self.waiting[0]
            tokens = request.tokens
            cached = self.allocator.cached_prefix(tokens)
            if cached == len(tokens):
                cached -= self.allocator.block_size  # the last position is always computed
            n = min(len(tokens) - cached, budget)
            try:
                hits = self.allocator.allocate(request.id, tokens, cached + n)
            except OutOfBlocks:
                break
            self.waiting.popleft()
            request.computed = hits
            n = cached + n - hits
            self.running.append(request)
            scheduled[request.id] = n
            admitted.append(request.id)
            budget -= n
        return StepResult(scheduled, preempted, admitted)

    def finish_step(self, result: StepResult, step_no: int, next_token: Callable[[Request], int]) -> list[Request]:
        """Record the computed positions; a request whose prompt is done gets a new token. Returns the finished."""
        finished = []
        for request in list(self.running):
            n = result.scheduled.get(request.id, 0)
            if not n:
                continue
            request.computed += n
            if request.computed == len(request.tokens):  # the last position ran: sample a token
                request.output.append(next_token(request))
                if request.first_token_step is None:
                    request.first_token_step = step_no
                if request.done:
                    request.finish_step = step_no
                    self.allocator.free_sequence(request.id)
                    self.running.remove(request)
                    finished.append(request)
        return finished


@dataclass
class Simulation:
    steps: int
    requests: list[Request]
    peak_blocks: int
    preemptions: int
    prefix_hit_tokens: int
    prefix_query_tokens: int
    tokens_per_step: list[int]

    def summary(self) -> dict:
        ttft = [r.first_token_step - r.arrival for r in self.requests if r.first_token_step is not None]
        return {"steps": self.steps, "peak_blocks": self.peak_blocks, "preemptions": self.preemptions,
                "prefix_hit_tokens": self.prefix_hit_tokens, "prefix_query_tokens": self.prefix_query_tokens,
                "mean_batch_tokens": sum(self.tokens_per_step) / max(len(self.tokens_per_step), 1),
                "max_ttft_steps": max(ttft, default=0)}


def simulate(requests: Sequence[Request], *, num_blocks: int, block_size: int,
             config: SchedulerConfig = SchedulerConfig(), prefix_caching: bool = True,
             max_steps: int = 100_000) -> Simulation:
    """Run ``requests`` (arriving at their ``arrival`` step) through a scheduler until all finish.

    Generated tokens are stand-ins (a count): what a request says does not
    change what the scheduler does, only how long it is.
    """
    allocator = PagedBlockAllocator(num_blocks, block_size, prefix_caching=prefix_caching)
    for r in requests:
        if allocator.blocks_needed(len(r.prompt) + r.max_tokens) > num_blocks:
            raise ValueError(f"request {r.id} needs {allocator.blocks_needed(len(r.prompt) + r.max_tokens)} blocks "
                             f"alone; the cache has {num_blocks}")
    scheduler = Scheduler(allocator, config)
    pending = sorted(requests, key=lambda r: r.arrival)
    done: list[Request] = []
    peak, preemptions, per_step = 0, 0, []
    step = 0
    while len(done) < len(requests):
        if step >= max_steps:
            raise RuntimeError(f"the simulation did not finish in {max_steps} steps")
        while pending and pending[0].arrival <= step:
            scheduler.add(pending.pop(0))
        result = scheduler.step()
        preemptions += len(result.preempted)
        peak = max(peak, allocator.num_used)
        per_step.append(result.num_tokens)
        done += scheduler.finish_step(result, step, lambda r: 1000 + len(r.output))
        step += 1
    return Simulation(step, list(requests), peak, preemptions, allocator.hit_tokens, allocator.query_tokens, per_step)


__all__ = ["Request", "Scheduler", "SchedulerConfig", "Simulation", "StepResult", "simulate"]
