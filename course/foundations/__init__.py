"""Lesson 01's worlds and the four kinds of agent that act in them.

- :mod:`.thermostat`: a room and a simple reflex agent (condition-action rules);
- :mod:`.vacuum`: a partially observable vacuum world and a model-based agent;
- :mod:`.routes`: route planning with a goal-based agent that replans;
- :mod:`.learning`: Q-learning in a maze and the multi-armed bandit;
- :mod:`.slm_policy`: a small language model choosing the moves, under constraint.

Every world is deterministic given its seed.
"""

from .grid import MOVES, Grid, edge, random_grid, step
from .learning import BernoulliBandit, MazeTask, QLearningAgent, maze_learning_curve
from .routes import GoalBasedAgent, Journey, RoutePercept, RouteWorld, direction
from .search import grid_path, uniform_cost_search
from .slm_policy import run_slm_policy
from .thermostat import Room, Rule, SimpleReflexAgent, ThermostatPercept, comfort_rules, run_thermostat
from .vacuum import MappingVacuum, ReflexVacuum, VacuumPercept, VacuumWorld, run_vacuum

__all__ = [
    "MOVES", "BernoulliBandit", "GoalBasedAgent", "Grid", "Journey", "MappingVacuum", "MazeTask",
    "QLearningAgent", "ReflexVacuum", "Room", "RoutePercept", "RouteWorld", "Rule", "SimpleReflexAgent",
    "ThermostatPercept", "VacuumPercept", "VacuumWorld", "comfort_rules", "direction", "edge", "grid_path",
    "maze_learning_curve", "random_grid", "run_slm_policy", "run_thermostat", "run_vacuum", "step",
    "uniform_cost_search",
]
