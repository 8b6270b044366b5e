"""Exercise l01.2: a model-based vacuum robot that keeps a map.

The robot senses only its own cell (:class:`course.foundations.VacuumPercept`:
position, dirty or not, the moves open from here). Its model of the world is
what it has sensed so far: the cells it has visited and, for each, the cells
its open moves lead to. With that map it can do what a reflex robot cannot:
know where it has not been yet, go there by the shortest known way, and know
when it is done.
"""

from collections import deque

from course.foundations import MOVES, VacuumPercept, step


class FrontierVacuum:
    """Cleans every reachable cell, then stops."""

    def __init__(self):
        self.visited: set = set()  # cells the robot has stood on
        self.links: dict = {}  # cell -> {move: next cell} for the open moves sensed there

    def update(self, percept: VacuumPercept) -> None:
        """Add what the percept shows to the model: this cell is visited; its open moves lead to these cells."""
        ### BEGIN SOLUTION
        here = percept.position
        self.visited.add(here)
        self.links[here] = {m: step(here, m) for m in MOVES if m in percept.moves}
        ### END SOLUTION

    def act(self, percept: VacuumPercept) -> str:
        """Update the model, then: ``"suck"`` on a dirty cell; else the first move of a shortest known
        path to the nearest cell not yet visited; ``"stop"`` when there is none."""
        ### BEGIN SOLUTION
        self.update(percept)
        if percept.dirty:
            return "suck"
        # Breadth-first over the known map from here; the first unvisited cell found is the nearest.
        start = percept.position
        first_move = {start: None}
        queue = deque([start])
        while queue:
            cell = queue.popleft()
            if cell not in self.visited:
                return first_move[cell]
            for move, nxt in self.links.get(cell, {}).items():
                if nxt not in first_move:
                    first_move[nxt] = first_move[cell] or move
                    queue.append(nxt)
        return "stop"
        ### END SOLUTION
