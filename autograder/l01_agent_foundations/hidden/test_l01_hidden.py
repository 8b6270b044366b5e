"""Hidden tests of lesson 01: cases the public tests do not show."""

import pytest

from course.foundations import Grid, SimpleReflexAgent, ThermostatPercept, VacuumPercept, edge, grid_path


def test_reflex_boundaries_stay_calm(target):
    """Exactly low or high is comfortable; exactly frost is not frost."""
    agent = SimpleReflexAgent(target.load("reflex").safe_rules(19.0, 23.0, 5.0))
    assert agent.act(ThermostatPercept(19.0, False)) == "off"
    assert agent.act(ThermostatPercept(23.0, False)) == "off"
    assert agent.act(ThermostatPercept(5.0, True)) == "off"
    assert agent.act(ThermostatPercept(4.99, True)) == "heat"


def test_vacuum_stops_at_once_when_boxed_in(target):
    """A robot with no open move cleans its cell and stops."""
    robot = target.load("vacuum_agent").FrontierVacuum()
    assert robot.act(VacuumPercept((0, 0), True, frozenset())) == "suck"
    assert robot.act(VacuumPercept((0, 0), False, frozenset())) == "stop"


def test_bfs_route_respects_closed_doors(target):
    """Doors closed on the map are not walked through: the route goes round."""
    grid = Grid(3, 2, blocked=frozenset({edge((0, 0), (1, 0)), edge((1, 0), (1, 1))}))
    route = target.load("planner").bfs_route(grid, (0, 0), (2, 0))
    assert route == grid_path(grid, (0, 0), (2, 0)) or (route and len(route) == len(grid_path(grid, (0, 0), (2, 0))))
    assert all(edge(a, b) not in grid.blocked for a, b in zip(route, route[1:]))


def test_learn_does_not_drift_over_many_pulls(target):
    """Ten thousand rewards of 0.1: the estimate is 0.1 to nine decimals."""
    agent = target.load("bandit").EpsilonGreedy(1)
    for _ in range(10_000):
        agent.learn(0, 0.1)
    assert agent.values[0] == pytest.approx(0.1, abs=1e-9) and agent.counts[0] == 10_000


def test_choices_are_reproducible_from_the_seed(target):
    """Two agents with the same seed and values make the same choices: all randomness comes from self.rng."""
    EpsilonGreedy = target.load("bandit").EpsilonGreedy
    a, b = EpsilonGreedy(4, epsilon=0.5, seed=11), EpsilonGreedy(4, epsilon=0.5, seed=11)
    a.values = b.values = [0.1, 0.7, 0.3, 0.2]
    picks = [a.choose() for _ in range(200)]
    assert picks == [b.choose() for _ in range(200)]
    assert 0.5 < picks.count(1) / 200 < 0.75  # expected 0.625: 0.5 greedy + 0.5 * 1/4 random
