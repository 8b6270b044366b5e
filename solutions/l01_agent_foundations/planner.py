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
    ### BEGIN SOLUTION
    for name, cell in (("start", start), ("goal", goal)):
        if not grid.open(cell):
            raise ValueError(f"{name} {cell} is a wall or outside the {grid.width}x{grid.height} grid")
    parent = {start: None}
    queue = deque([start])
    while queue:
        cell = queue.popleft()
        if cell == goal:
            path = [cell]
            while parent[path[-1]] is not None:
                path.append(parent[path[-1]])
            return path[::-1]
        for nxt in grid.neighbours(cell):
            if nxt not in parent:
                parent[nxt] = cell
                queue.append(nxt)
    return None
    ### END SOLUTION
