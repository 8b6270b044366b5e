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
        # YOUR CODE HERE: exercise l01.2, Keep a map of the vacuum world
        raise NotImplementedError("exercise l01.2: read lessons/l01_agent_foundations/index.md#the-model-based-agent, then run `course check l01`")

    def act(self, percept: VacuumPercept) -> str:
        """Update the model, then: ``"suck"`` on a dirty cell; else the first move of a shortest known
        path to the nearest cell not yet visited; ``"stop"`` when there is none."""
        # YOUR CODE HERE: exercise l01.2, Keep a map of the vacuum world
        raise NotImplementedError("exercise l01.2: read lessons/l01_agent_foundations/index.md#the-model-based-agent, then run `course check l01`")
