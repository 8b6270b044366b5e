"""Exercise l01.3: plan a route with breadth-first search.

A goal-based agent searches its map for a sequence of moves that reaches the
goal. On a grid where every move costs the same, breadth-first search finds a
shortest such sequence: it explores all cells one move away, then two, and so
on, so the first time it reaches the goal it has done so in the fewest moves.
Plug your planner into the course's goal-based agent to drive in a world whose
doors may turn out closed: ``GoalBasedAgent(world.map, planner=bfs_route)``.
"""

from collections import deque

from course.foundations import Grid


def bfs_route(grid: Grid, start: tuple, goal: tuple) -> list | None:
    """A shortest path of cells from ``start`` to ``goal``, both included (``[start]`` when they are the
    same), moving with ``grid.neighbours``; ``None`` when the goal cannot be reached. A ``start`` or
    ``goal`` that is a wall or off the grid is a ``ValueError``."""
    # YOUR CODE HERE: exercise l01.3, Plan a route with breadth-first search
    raise NotImplementedError("exercise l01.3: read lessons/l01_agent_foundations/index.md#the-goal-based-agent, then run `course check l01`")
