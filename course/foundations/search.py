"""Uniform-cost search: the course's reference planner.

``uniform_cost_search`` finds a cheapest path in any graph given as a
successor function; with unit costs it finds a path with the fewest steps,
which is what the lesson's goal-based agent needs. (The exercise builds the
unit-cost special case, breadth-first search, from scratch.)
"""

from __future__ import annotations

import heapq
import itertools
from typing import Callable, Hashable, Iterable, TypeVar

S = TypeVar("S", bound=Hashable)


def uniform_cost_search(start: S, is_goal: Callable[[S], bool],
                        successors: Callable[[S], Iterable[tuple[S, float]]]) -> list[S] | None:
    """A cheapest path from ``start`` to a goal state (both ends included), or ``None`` if none exists."""
    tie = itertools.count()  # states need not be comparable
    frontier = [(0.0, next(tie), start)]
    came_from: dict[S, S | None] = {start: None}
    best = {start: 0.0}
    while frontier:
        cost, _, state = heapq.heappop(frontier)
        if cost > best[state]:
            continue  # a stale entry: a cheaper way here was found later
        if is_goal(state):
            path = [state]
            while came_from[path[-1]] is not None:
                path.append(came_from[path[-1]])
            return path[::-1]
        for nxt, step_cost in successors(state):
            new = cost + step_cost
            if nxt not in best or new < best[nxt]:
                best[nxt] = new
                came_from[nxt] = state
                heapq.heappush(frontier, (new, next(tie), nxt))
    return None


def grid_path(grid, start, goal) -> list | None:
    """A shortest path between two cells of a :class:`~course.foundations.grid.Grid`, or ``None``."""
    return uniform_cost_search(start, lambda c: c == goal, lambda c: ((n, 1.0) for n in grid.neighbours(c)))
