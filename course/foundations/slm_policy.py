"""A small language model as an agent's policy, in the route world.

Each step the model reads the percept and the agent's memory (the cells it has
visited, the doors it found closed) and picks a move. Its output is
constrained: the reply must be JSON whose ``move`` is one of the moves open
from here (an ``enum`` in the JSON schema, compiled to a grammar by llama.cpp),
so the model can choose badly but never choose something impossible. The
memory is the model of a model-based agent; the model itself replaces the
rules or the search.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..backends import ChatBackend, json_schema_format
from .grid import Cell, edge, step
from .routes import RouteWorld

SYSTEM = ("You move a robot on a grid to reach a goal. x grows to the east, y grows to the south. "
          "Answer with JSON: {\"move\": <one of the open moves>}.")


def move_schema(moves: list[str]) -> dict:
    return {"type": "object", "properties": {"move": {"type": "string", "enum": list(moves)}},
            "required": ["move"], "additionalProperties": False}


def describe(world: RouteWorld, open_moves: list[str], visited: list[Cell], closed: list) -> str:
    here, goal = world.position, world.goal
    options = []
    for m in open_moves:
        nxt = step(here, m)
        distance = abs(goal[0] - nxt[0]) + abs(goal[1] - nxt[1])
        seen = ", visited before" if nxt in visited else ""
        options.append(f"- {m}: to {nxt}, {distance} steps from the goal as the crow flies{seen}")
    lines = [f"You are at {here}. The goal is at {goal}.", "Open moves:", *options]
    if closed:
        lines.append("Doors you found closed: " + ", ".join(f"{sorted(d)[0]}-{sorted(d)[1]}" for d in closed))
    return "\n".join(lines)


@dataclass
class PolicyRun:
    reached: bool
    moves: list[str] = field(default_factory=list)
    legal: list[list[str]] = field(default_factory=list)  # the open moves offered at each step
    bumps: int = 0


def run_slm_policy(backend: ChatBackend, world: RouteWorld, max_moves: int = 30) -> PolicyRun:
    """Let the model drive until it reaches the goal or ``max_moves`` moves have been made."""
    grid = world.map  # the agent's own map, updated as doors turn out closed
    visited, closed = [world.position], []
    run = PolicyRun(False)
    while world.position != world.goal and len(run.moves) < max_moves:
        open_moves = grid.moves(world.position)
        if not open_moves:
            break  # boxed in: no move is possible
        reply = backend.chat(
            [{"role": "system", "content": SYSTEM},
             {"role": "user", "content": describe(world, open_moves, visited, closed)}],
            response_format=json_schema_format(move_schema(open_moves), "move"), max_tokens=16)
        try:
            move = json.loads(reply.content)["move"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"the model's reply {reply.content!r} is not the constrained JSON: {exc}") from exc
        if move not in open_moves:
            raise ValueError(f"the model chose {move!r}, which is not an open move {open_moves}")
        run.moves.append(move)
        run.legal.append(open_moves)
        here = world.position
        if world.move(move):
            visited.append(world.position)
        else:
            run.bumps += 1
            closed.append(edge(here, step(here, move)))
            grid = grid.with_blocked({closed[-1]})
    run.reached = world.position == world.goal
    return run
