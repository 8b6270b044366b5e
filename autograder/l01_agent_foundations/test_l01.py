"""Autograder for lesson 01: agent foundations.

Every agent is graded by properties over many generated cases (hypothesis):
the rules hold for any percept, the vacuum robot cleans any random map, the
planner's routes are as short as the course's reference search finds, the
learner's estimates are exact means and its choices find the best arm.
"""

from hypothesis import assume, given, settings
from hypothesis import strategies as st

import pytest

from course.foundations import (
    BernoulliBandit,
    GoalBasedAgent,
    Grid,
    RouteWorld,
    SimpleReflexAgent,
    ThermostatPercept,
    VacuumPercept,
    VacuumWorld,
    grid_path,
    random_grid,
    run_thermostat,
    run_vacuum,
    Room,
)

# --- helpers -----------------------------------------------------------------

temperatures = st.floats(min_value=-30, max_value=50, allow_nan=False)


@st.composite
def thresholds(draw):
    frost = draw(st.floats(min_value=-10, max_value=10, allow_nan=False))
    low = draw(st.floats(min_value=frost + 0.5, max_value=frost + 20, allow_nan=False))
    high = draw(st.floats(min_value=low + 0.5, max_value=low + 10, allow_nan=False))
    return frost, low, high


def expected_action(p, frost, low, high):
    """What the lesson's section asks for, written as plainly as possible."""
    if p.temperature < frost:
        return "heat"
    if p.window_open:
        return "off"
    if p.temperature < low:
        return "heat"
    if p.temperature > high:
        return "cool"
    return "off"


@st.composite
def grids(draw, max_side=8):
    width = draw(st.integers(1, max_side))
    height = draw(st.integers(1, max_side))
    seed = draw(st.integers(0, 10**6))
    density = draw(st.sampled_from([0.0, 0.15, 0.3, 0.45]))
    return random_grid(seed, width, height, density)


def is_path(grid, path, start, goal):
    return (path[0] == start and path[-1] == goal
            and all(b in grid.neighbours(a) for a, b in zip(path, path[1:])))


# --- l01.1 the simple reflex agent ----------------------------------------------


@given(thresholds(), temperatures, st.booleans())
def test_reflex_rules_follow_the_spec_for_any_percept(target, limits, temperature, window_open):
    """For any temperature and window, the first matching rule picks the action the section specifies."""
    frost, low, high = limits
    agent = SimpleReflexAgent(target.load("reflex").safe_rules(low, high, frost))
    percept = ThermostatPercept(temperature, window_open)
    assert agent.act(percept) == expected_action(percept, frost, low, high), (
        f"at {temperature} degrees, window {'open' if window_open else 'closed'}, "
        f"with frost={frost}, low={low}, high={high}")


def test_reflex_rules_reject_bad_thresholds(target):
    """Thresholds out of order (frost < low < high broken) raise ValueError."""
    safe_rules = target.load("reflex").safe_rules
    for frost, low, high in [(5, 23, 19), (20, 19, 23), (5, 19, 19), (19, 19, 23)]:
        with pytest.raises(ValueError):
            safe_rules(low, high, frost)


def test_reflex_thermostat_obeys_its_rules_in_a_room(target):
    """Driving a simulated room for a day, every action is the one the rules ask for."""
    rules = target.load("reflex").safe_rules()
    for seed in range(5):
        run = run_thermostat(SimpleReflexAgent(rules), Room(seed=seed))
        wrong = [(p, a) for p, a in zip(run.percepts, run.actions) if a != expected_action(p, 5.0, 19.0, 23.0)]
        assert not wrong, f"room seed {seed}: first wrong action {wrong[0]}"


# --- l01.2 the model-based agent ------------------------------------------------


def test_vacuum_update_records_the_percept(target):
    """update() marks the cell visited and records where each open move leads."""
    robot = target.load("vacuum_agent").FrontierVacuum()
    robot.update(VacuumPercept((2, 3), False, frozenset({"north", "east"})))
    assert robot.visited == {(2, 3)}
    assert robot.links[(2, 3)] == {"north": (2, 2), "east": (3, 3)}


def test_vacuum_sucks_before_moving(target):
    """On a dirty cell the robot sucks; on the now clean cell it moves to the unvisited neighbour."""
    robot = target.load("vacuum_agent").FrontierVacuum()
    assert robot.act(VacuumPercept((0, 0), True, frozenset({"east"}))) == "suck"
    assert robot.act(VacuumPercept((0, 0), False, frozenset({"east"}))) == "east"


@given(st.integers(0, 10**6), st.integers(1, 7), st.integers(1, 7), st.sampled_from([0.0, 0.2, 0.35]))
def test_vacuum_cleans_every_reachable_cell_on_random_maps(target, seed, width, height, walls):
    """On any random map the robot cleans all the dirt it can reach, never bumps, and stops within a bound."""
    world = VacuumWorld.random(seed, width, height, walls)
    reachable = world.grid.reachable(world.position)
    n = len(reachable)
    bound = n * n + n + 1  # at most n trips of at most n moves, a suck per cell, and the stop
    robot = target.load("vacuum_agent").FrontierVacuum()
    run = run_vacuum(robot, world, max_steps=bound)
    assert run.stopped, f"the robot did not stop within {bound} actions on a map with {n} reachable cells"
    assert run.left_dirty == 0, f"{run.left_dirty} reachable dirty cells left"
    assert run.bumps == 0, "the robot tried a move its percept said was closed"
    assert robot.visited == reachable


@given(st.integers(0, 10**6))
def test_vacuum_never_sucks_a_clean_cell(target, seed):
    """Every suck lands on a dirty cell."""
    world = VacuumWorld.random(seed)
    robot = target.load("vacuum_agent").FrontierVacuum()
    sucks_on_clean = 0
    for _ in range(400):
        p = world.percept()
        action = robot.act(p)
        if action == "stop":
            break
        sucks_on_clean += action == "suck" and not p.dirty
        world.step(action)
    assert sucks_on_clean == 0


# --- l01.3 the goal-based agent -------------------------------------------------


@given(grids(), st.data())
def test_bfs_route_is_as_short_as_the_reference(target, grid, data):
    """On random grids the route is a real path, exactly as short as the reference search's, or None with it."""
    cells = grid.cells()
    assume(cells)
    start = data.draw(st.sampled_from(cells))
    goal = data.draw(st.sampled_from(cells))
    route = target.load("planner").bfs_route(grid, start, goal)
    reference = grid_path(grid, start, goal)
    if reference is None:
        assert route is None, f"{goal} cannot be reached from {start}, but the route is {route}"
        return
    assert route is not None, f"no route found from {start} to {goal}, but one exists: {reference}"
    assert is_path(grid, route, start, goal), f"not a path of neighbouring cells from start to goal: {route}"
    assert len(route) == len(reference), f"route of {len(route) - 1} moves; the shortest has {len(reference) - 1}"


def test_bfs_route_from_a_cell_to_itself(target):
    """Start and goal the same: the route is the one cell."""
    assert target.load("planner").bfs_route(Grid(3, 3), (1, 1), (1, 1)) == [(1, 1)]


def test_bfs_route_rejects_walls_and_outside_cells(target):
    """A start or goal on a wall or off the grid raises ValueError."""
    bfs_route = target.load("planner").bfs_route
    grid = Grid(4, 3, frozenset({(1, 1)}))
    for start, goal in [((1, 1), (0, 0)), ((0, 0), (1, 1)), ((0, 0), (4, 0)), ((-1, 0), (0, 0))]:
        with pytest.raises(ValueError):
            bfs_route(grid, start, goal)


@given(st.integers(0, 10**6), st.integers(0, 6))
def test_goal_based_agent_with_your_planner(target, seed, doors):
    """Driving with your planner, the course's goal-based agent replans past closed doors, arrives exactly
    when the goal is reachable in the true world, and otherwise says the goal is unreachable."""
    world = RouteWorld.random(seed, closed_doors=doors)
    journey = GoalBasedAgent(world.map, planner=target.load("planner").bfs_route).travel(world)
    assert journey.reached == world.solvable()
    if not journey.reached:
        assert "unreachable" in journey.reason and str(world.goal) in journey.reason
    else:
        first = grid_path(world.map, world.start, world.goal)
        assert len(journey.plans[0]) == len(first), "the first plan must be a shortest route on the map"


# --- l01.4 and l01.5 the learning agent ------------------------------------------

pulls = st.lists(st.tuples(st.integers(0, 3), st.floats(min_value=-5, max_value=5, allow_nan=False)), max_size=60)


@given(pulls)
def test_learn_keeps_the_mean_of_each_arm(target, history):
    """After any sequence of rewards, counts are the pulls and values the mean reward, per arm."""
    agent = target.load("bandit").EpsilonGreedy(4)
    for arm, reward in history:
        agent.learn(arm, reward)
    for arm in range(4):
        rewards = [r for a, r in history if a == arm]
        assert agent.counts[arm] == len(rewards)
        assert agent.values[arm] == pytest.approx(sum(rewards) / len(rewards) if rewards else 0.0, abs=1e-9)


def test_learn_leaves_other_arms_alone(target):
    """Learning about arm 2 changes nothing about arms 0, 1 and 3."""
    agent = target.load("bandit").EpsilonGreedy(4)
    agent.learn(2, 1.0)
    assert agent.values == [0.0, 0.0, 1.0, 0.0] and agent.counts == [0, 0, 1, 0]


@given(st.lists(st.floats(min_value=-10, max_value=10, allow_nan=False), min_size=1, max_size=8))
def test_greedy_choice_takes_the_best_arm(target, values):
    """With epsilon 0 the choice is the highest value, the lowest index on a tie."""
    agent = target.load("bandit").EpsilonGreedy(len(values), epsilon=0.0)
    agent.values = list(values)
    best = max(values)
    assert agent.choose() == values.index(best)


def test_full_exploration_tries_every_arm(target):
    """With epsilon 1 every choice is random: 300 choices among 5 arms try them all."""
    agent = target.load("bandit").EpsilonGreedy(5, epsilon=1.0, seed=3)
    agent.values = [9.0, 0.0, 0.0, 0.0, 0.0]
    assert {agent.choose() for _ in range(300)} == set(range(5))


@settings(max_examples=4)  # 12,000 pulls an example, each a call into the submission's process
@given(st.integers(0, 10**6), st.integers(2, 5), st.data())
def test_epsilon_greedy_learns_the_best_arm(target, seed, arms, data):
    """On bandits whose best arm is not arm 0, ten seeded runs of 600 pulls with epsilon 0.1 learn: the
    last 200 pulls earn more than the first 10, and mostly use the best arm."""
    best = data.draw(st.integers(1, arms - 1))
    probs = [data.draw(st.floats(0.2 if a == 0 else 0.0, 0.45)) for a in range(arms)]
    probs[best] = data.draw(st.floats(max(probs) + 0.4, 1.0))
    EpsilonGreedy = target.load("bandit").EpsilonGreedy
    early, late, late_best = [], [], 0
    for run in range(10):
        bandit = BernoulliBandit(probs, seed=2_000_000 + seed + run)  # never the agent's seed: no shared stream
        agent = EpsilonGreedy(arms, epsilon=0.1, seed=seed + run)
        for n in range(600):
            arm = agent.choose()
            reward = bandit.pull(arm)
            agent.learn(arm, reward)
            if n < 10:
                early.append(reward)
            elif n >= 400:
                late.append(reward)
                late_best += arm == best
    early_mean, late_mean, share = sum(early) / len(early), sum(late) / len(late), late_best / len(late)
    assert share >= 0.6, f"the best arm ({best}, pays {probs[best]:.2f}) got {share:.0%} of the last 200 pulls"
    assert late_mean > early_mean + 0.05, f"mean reward {early_mean:.2f} in the first 10 pulls, {late_mean:.2f} in the last 200"
