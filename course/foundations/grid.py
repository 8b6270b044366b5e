"""Grid worlds: cells, walls and the four moves, shared by the lesson's environments.

A cell is ``(x, y)`` with ``x`` growing east and ``y`` growing south. A grid
knows its size and its wall cells; a door between two open cells can also be
shut (``blocked``: a set of two-cell frozensets), which a map may not show.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

Cell = tuple[int, int]
Edge = frozenset  # frozenset({cell_a, cell_b})

MOVES: dict[str, tuple[int, int]] = {"north": (0, -1), "south": (0, 1), "east": (1, 0), "west": (-1, 0)}


def step(cell: Cell, move: str) -> Cell:
    dx, dy = MOVES[move]
    return (cell[0] + dx, cell[1] + dy)


def edge(a: Cell, b: Cell) -> Edge:
    return frozenset((a, b))


@dataclass(frozen=True)
class Grid:
    width: int
    height: int
    walls: frozenset[Cell] = frozenset()
    blocked: frozenset[Edge] = field(default_factory=frozenset)

    def __post_init__(self):
        if self.width < 1 or self.height < 1:
            raise ValueError(f"a grid needs at least one cell, got {self.width}x{self.height}")

    def open(self, cell: Cell) -> bool:
        """Inside the grid and not a wall."""
        x, y = cell
        return 0 <= x < self.width and 0 <= y < self.height and cell not in self.walls

    def can_move(self, cell: Cell, move: str) -> bool:
        nxt = step(cell, move)
        return self.open(nxt) and edge(cell, nxt) not in self.blocked

    def moves(self, cell: Cell) -> list[str]:
        """The moves that leave ``cell`` for an open cell through an open door, in ``MOVES`` order."""
        return [m for m in MOVES if self.can_move(cell, m)]

    def neighbours(self, cell: Cell) -> list[Cell]:
        return [step(cell, m) for m in self.moves(cell)]

    def cells(self) -> list[Cell]:
        return [(x, y) for y in range(self.height) for x in range(self.width) if (x, y) not in self.walls]

    def reachable(self, start: Cell) -> set[Cell]:
        """Every cell ``start`` can reach (``start`` included)."""
        seen, todo = {start}, [start]
        while todo:
            for nxt in self.neighbours(todo.pop()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    def with_blocked(self, extra) -> "Grid":
        return Grid(self.width, self.height, self.walls, frozenset(self.blocked) | frozenset(extra))

    def render(self, marks: dict[Cell, str] | None = None) -> str:
        marks = marks or {}
        return "\n".join("".join(marks.get((x, y), "#" if (x, y) in self.walls else ".")
                                 for x in range(self.width)) for y in range(self.height))


def random_grid(seed: int, width: int, height: int, wall_density: float = 0.25,
                keep_open: tuple[Cell, ...] = ()) -> Grid:
    """A grid with walls placed at random; the same seed always gives the same grid."""
    rng = random.Random(seed)
    walls = {(x, y) for y in range(height) for x in range(width) if rng.random() < wall_density}
    return Grid(width, height, frozenset(walls - set(keep_open)))
