"""Route planning: a goal-based agent that plans, acts, and replans when the map is wrong.

The agent has a map of the roads (a grid) and a goal cell. It searches the map
for a plan, a shortest path to the goal, and follows it. The world may hold
closed doors the map does not show: a move through one fails, the agent marks
that door closed on its map and plans again from where it stands. When no plan
reaches the goal any more, it stops and says so.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from .grid import MOVES, Cell, Grid, edge, random_grid, step
from .search import grid_path


@dataclass(frozen=True)
class RoutePercept:
    position: Cell
    goal: Cell
    bumped: bool  # the last move hit a closed door


class RouteWorld:
    """The true world: the map's grid plus closed doors (``hidden``) the map does not show."""

    def __init__(self, grid: Grid, start: Cell, goal: Cell, hidden: frozenset = frozenset()):
        for name, cell in (("start", start), ("goal", goal)):
            if not grid.open(cell):
                raise ValueError(f"the {name} {cell} is a wall or outside the {grid.width}x{grid.height} grid")
        self.map = grid
        self.true = grid.with_blocked(hidden)
        self.start, self.goal = start, goal
        self.position = start
        self.bumped = False
        self.moves_taken = 0

    @classmethod
    def random(cls, seed: int, width: int = 7, height: int = 6, wall_density: float = 0.2,
               closed_doors: int = 3) -> "RouteWorld":
        rng = random.Random(seed)
        cells = [(x, y) for y in range(height) for x in range(width)]
        start, goal = rng.sample(cells, 2)
        grid = random_grid(rng.randrange(2**31), width, height, wall_density, keep_open=(start, goal))
        doors = sorted({edge(c, n) for c in grid.cells() for n in grid.neighbours(c)}, key=sorted)
        hidden = frozenset(rng.sample(doors, min(closed_doors, len(doors))))
        return cls(grid, start, goal, hidden)

    def percept(self) -> RoutePercept:
        return RoutePercept(self.position, self.goal, self.bumped)

    def move(self, direction: str) -> bool:
        """Try a move; ``False`` (and a bump) when a wall or a closed door is in the way."""
        if direction not in MOVES:
            raise ValueError(f"unknown move {direction!r}: use one of {tuple(MOVES)}")
        self.moves_taken += 1
        self.bumped = not self.true.can_move(self.position, direction)
        if not self.bumped:
            self.position = step(self.position, direction)
        return not self.bumped

    def solvable(self) -> bool:
        """Whether the goal can be reached in the true world (what the agent cannot know in advance)."""
        return self.goal in self.true.reachable(self.start)


def direction(a: Cell, b: Cell) -> str:
    delta = (b[0] - a[0], b[1] - a[1])
    for name, d in MOVES.items():
        if d == delta:
            return name
    raise ValueError(f"{a} and {b} are not neighbours")


@dataclass
class Journey:
    reached: bool
    visited: list[Cell]
    plans: list[list[Cell]] = field(default_factory=list)
    reason: str = ""

    @property
    def replans(self) -> int:
        return max(0, len(self.plans) - 1)


class GoalBasedAgent:
    """Plans with the course's reference search on its own map; replans after every bump."""

    def __init__(self, grid: Grid, planner=grid_path):
        self.map = grid
        self.planner = planner

    def travel(self, world: RouteWorld, max_moves: int = 1000) -> Journey:
        journey = Journey(False, [world.position])
        while world.position != world.goal:
            plan = self.planner(self.map, world.position, world.goal)
            if plan is None:
                journey.reason = (f"goal {world.goal} is unreachable from {world.position}: every route on the "
                                  f"map is walled off or behind a door found closed")
                return journey
            journey.plans.append(plan)
            for here, nxt in zip(plan, plan[1:]):
                if world.moves_taken >= max_moves:
                    journey.reason = f"gave up after {max_moves} moves"
                    return journey
                if not world.move(direction(here, nxt)):
                    self.map = self.map.with_blocked({edge(here, nxt)})  # learn the closed door
                    break
                journey.visited.append(nxt)
        journey.reached = True
        return journey
