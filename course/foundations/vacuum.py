"""A partially observable vacuum world, and a model-based agent that maps it.

The robot senses only its own cell: where it is, whether the cell is dirty,
and which of the four moves are open from here. It cannot see the dirt or the
walls elsewhere. A model-based agent keeps an internal model of what it has
sensed (the cells it has been to, the moves it knows are open) and uses it to
decide where to go next; a simple reflex agent, with no model, can only react
to the cell it is on.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from .grid import MOVES, Cell, Grid, random_grid, step

ACTIONS = (*MOVES, "suck", "stop")


@dataclass(frozen=True)
class VacuumPercept:
    position: Cell
    dirty: bool
    moves: frozenset[str]  # the moves open from here


class VacuumWorld:
    """Dirt on some cells of a grid; deterministic given its grid, dirt and start."""

    def __init__(self, grid: Grid, dirt: set[Cell], start: Cell):
        if not grid.open(start):
            raise ValueError(f"the robot cannot start on {start}: it is a wall or outside the grid")
        self.grid = grid
        self.dirt = set(dirt)
        self.position = start
        self.bumps = 0
        self.cleaned: list[Cell] = []

    @classmethod
    def random(cls, seed: int, width: int = 6, height: int = 5, wall_density: float = 0.2,
               dirt_density: float = 0.4) -> "VacuumWorld":
        rng = random.Random(seed)
        start = (rng.randrange(width), rng.randrange(height))
        grid = random_grid(rng.randrange(2**31), width, height, wall_density, keep_open=(start,))
        dirt = {c for c in grid.cells() if rng.random() < dirt_density}
        return cls(grid, dirt, start)

    def percept(self) -> VacuumPercept:
        return VacuumPercept(self.position, self.position in self.dirt, frozenset(self.grid.moves(self.position)))

    def step(self, action: str) -> None:
        if action == "suck":
            if self.position in self.dirt:
                self.dirt.discard(self.position)
                self.cleaned.append(self.position)
        elif action in MOVES:
            if self.grid.can_move(self.position, action):
                self.position = step(self.position, action)
            else:
                self.bumps += 1
        elif action != "stop":
            raise ValueError(f"unknown action {action!r}: use one of {ACTIONS}")

    def reachable_dirt(self, start: Cell) -> set[Cell]:
        return self.dirt & self.grid.reachable(start)


@dataclass
class VacuumRun:
    actions: list[str] = field(default_factory=list)
    stopped: bool = False
    bumps: int = 0
    left_dirty: int = 0

    @property
    def moves(self) -> int:
        return sum(a in MOVES for a in self.actions)


def run_vacuum(agent, world: VacuumWorld, max_steps: int = 500) -> VacuumRun:
    """Run until the agent says ``stop`` or ``max_steps`` actions have been taken."""
    run = VacuumRun()
    start = world.position
    dirt_reachable = world.reachable_dirt(start)
    for _ in range(max_steps):
        action = agent.act(world.percept())
        run.actions.append(action)
        if action == "stop":
            run.stopped = True
            break
        world.step(action)
    run.bumps = world.bumps
    run.left_dirty = len(dirt_reachable & world.dirt)
    return run


class ReflexVacuum:
    """Simple reflex: suck when dirty, otherwise a random open move. It never knows when it is done."""

    def __init__(self, seed: int = 0):
        self.rng = random.Random(seed)

    def act(self, p: VacuumPercept) -> str:
        if p.dirty:
            return "suck"
        return self.rng.choice(sorted(p.moves)) if p.moves else "stop"


class MappingVacuum:
    """Model-based: depth-first exploration with a map of visited cells and a trail back.

    The model is the set of cells it has visited and the trail of moves that
    brought it here. From each cell it takes an open move to a cell it has not
    visited; when there is none it walks the trail back one step; when the
    trail is empty, every reachable cell has been visited and cleaned: stop.
    """

    BACK = {"north": "south", "south": "north", "east": "west", "west": "east"}

    def __init__(self):
        self.visited: set[Cell] = set()
        self.trail: list[str] = []

    def act(self, p: VacuumPercept) -> str:
        self.visited.add(p.position)
        if p.dirty:
            return "suck"
        for move in MOVES:
            if move in p.moves and step(p.position, move) not in self.visited:
                self.trail.append(move)
                return move
        if self.trail:
            return self.BACK[self.trail.pop()]
        return "stop"
