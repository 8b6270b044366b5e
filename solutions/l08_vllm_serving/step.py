"""Exercise l08.3: one step of continuous batching.

Each step, the engine runs one forward pass over a batch of positions from
many requests. The scheduler fills it: running requests first (a decode
step is one token; a prompt is computed in chunks, *chunked prefill*), then
waiting requests, oldest first. It has a token budget, a limit on how many
requests run at once, and the free KV blocks. When a running request needs a
block and none is free, the request that joined last is *preempted*: its
blocks are freed and it goes back to the head of the queue, to be computed
again later.
"""

from dataclasses import dataclass, field


@dataclass
class Req:
    id: str
    num_tokens: int  # positions the request needs now: its prompt plus what it generated
    computed: int = 0  # positions already in the KV cache
    blocks: int = 0  # KV blocks it holds


@dataclass
class Step:
    scheduled: dict[str, int] = field(default_factory=dict)  # request id -> positions computed this step
    preempted: list[str] = field(default_factory=list)
    admitted: list[str] = field(default_factory=list)
    free_blocks: int = 0  # after the step


def blocks_for(positions: int, block_size: int) -> int:
    return -(-positions // block_size)


def schedule_step(running: list[Req], waiting: list[Req], free_blocks: int, *, block_size: int,
                  max_num_seqs: int, max_num_batched_tokens: int) -> Step:
    """Fill one step; change ``running``, ``waiting`` and the requests in place, and return what was done.

    1. The budget is ``max_num_batched_tokens``. For each running request, in
       order: ``n = min(num_tokens - computed, budget)``; skip it when ``n`` is
       0. It needs ``blocks_for(computed + n) - blocks`` more blocks. While
       they are not free, preempt the *last* request of ``running``: give back
       its blocks, set its ``blocks`` and ``computed`` to 0, remove it from
       ``running`` (and from what this step scheduled) and put it at the
       *front* of ``waiting``. If it was the request itself, go on with the
       next. Otherwise take the blocks, schedule ``n`` positions, spend ``n``.
    2. Only if nobody was preempted: admit ``waiting`` requests from the front
       while budget remains and fewer than ``max_num_seqs`` run. Each gets
       ``n = min(num_tokens - computed, budget)`` positions and their blocks;
       stop at the first that does not fit in the free blocks. An admitted
       request moves to the end of ``running``.

    ``computed`` is not changed here: the positions are computed by the pass.
    """
    ### BEGIN SOLUTION
    step = Step(free_blocks=free_blocks)
    budget = max_num_batched_tokens
    for req in list(running):
        if req not in running or budget == 0:
            continue
        n = min(req.num_tokens - req.computed, budget)
        if n == 0:
            continue
        needed = blocks_for(req.computed + n, block_size) - req.blocks
        while needed > step.free_blocks:
            victim = running.pop()
            step.free_blocks += victim.blocks
            victim.blocks = victim.computed = 0
            waiting.insert(0, victim)
            step.scheduled.pop(victim.id, None)
            step.preempted.append(victim.id)
            if victim is req:
                break
        if req not in running:
            continue
        step.free_blocks -= needed
        req.blocks += needed
        step.scheduled[req.id] = n
        budget -= n
    while not step.preempted and waiting and budget > 0 and len(running) < max_num_seqs:
        req = waiting[0]
        n = min(req.num_tokens - req.computed, budget)
        needed = blocks_for(req.computed + n, block_size) - req.blocks
        if needed > step.free_blocks:
            break
        waiting.pop(0)
        step.free_blocks -= needed
        req.blocks += needed
        running.append(req)
        step.scheduled[req.id] = n
        step.admitted.append(req.id)
        budget -= n
    return step
    ### END SOLUTION
