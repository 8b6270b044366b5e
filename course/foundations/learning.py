"""Learning agents: tabular Q-learning in a small maze, and the multi-armed bandit it generalises.

A learning agent improves its own behaviour from experience. Its parts, in the
classic description: a *performance element* that picks actions (here: the
greedy action of a value table), a *critic* that says how well it did (the
reward), a *learning element* that changes the table from the critic's
feedback (the Q-learning update), and a *problem generator* that proposes
exploratory actions (an epsilon-greedy coin flip). Everything is seeded, so a
learning curve is the same on every machine.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .grid import MOVES, Cell, Grid, step


class BernoulliBandit:
    """``k`` slot machines; arm ``i`` pays 1 with probability ``probs[i]``, else 0. Seeded."""

    def __init__(self, probs: list[float], seed: int = 0):
        if not probs or not all(0.0 <= p <= 1.0 for p in probs):
            raise ValueError(f"probs must be a non-empty list of probabilities, got {probs!r}")
        self.probs = list(probs)
        self.rng = random.Random(seed)

    @property
    def arms(self) -> int:
        return len(self.probs)

    def pull(self, arm: int) -> float:
        if not 0 <= arm < len(self.probs):
            raise ValueError(f"arm {arm} does not exist: this bandit has arms 0..{len(self.probs) - 1}")
        return 1.0 if self.rng.random() < self.probs[arm] else 0.0


MAZE = Grid(5, 5, frozenset({(1, 0), (1, 1), (1, 2), (3, 2), (3, 3), (3, 4)}))


class MazeTask:
    """Walk from the top-left to the bottom-right of :data:`MAZE`; -1 per move, episodes capped."""

    def __init__(self, grid: Grid = MAZE, start: Cell = (0, 0), goal: Cell = (4, 4), max_moves: int = 100):
        self.grid, self.start, self.goal, self.max_moves = grid, start, goal, max_moves

    def run_episode(self, agent: "QLearningAgent", learn: bool = True) -> int:
        """Moves the agent needed (``max_moves`` if it never arrived)."""
        cell = self.start
        for n in range(1, self.max_moves + 1):
            action = agent.act(cell)
            nxt = step(cell, action) if self.grid.can_move(cell, action) else cell
            reward = 0.0 if nxt == self.goal else -1.0
            if learn:
                agent.learn(cell, action, reward, nxt, done=nxt == self.goal)
            cell = nxt
            if cell == self.goal:
                return n
        return self.max_moves


class QLearningAgent:
    """Tabular Q-learning with epsilon-greedy exploration."""

    def __init__(self, actions=tuple(MOVES), alpha: float = 0.5, gamma: float = 0.95, epsilon: float = 0.1,
                 seed: int = 0):
        self.actions = tuple(actions)
        self.alpha, self.gamma, self.epsilon = alpha, gamma, epsilon
        self.q: dict[tuple, float] = {}
        self.rng = random.Random(seed)

    def value(self, state, action) -> float:
        return self.q.get((state, action), 0.0)

    def greedy(self, state):
        best = max(self.value(state, a) for a in self.actions)
        return self.rng.choice([a for a in self.actions if self.value(state, a) == best])

    def act(self, state):
        if self.rng.random() < self.epsilon:  # the problem generator: try something else
            return self.rng.choice(self.actions)
        return self.greedy(state)  # the performance element

    def learn(self, state, action, reward: float, nxt, done: bool) -> None:
        """The learning element: move Q(s, a) toward reward + gamma * max Q(s', .)."""
        future = 0.0 if done else max(self.value(nxt, a) for a in self.actions)
        old = self.value(state, action)
        self.q[(state, action)] = old + self.alpha * (reward + self.gamma * future - old)


@dataclass
class LearningCurve:
    episodes: list[int]
    moves: list[float]  # mean moves per episode over the seeds

    def mean(self, first: int | None = None, last: int | None = None) -> float:
        values = self.moves[:first] if first else self.moves[-last:]
        return sum(values) / len(values)


def maze_learning_curve(episodes: int = 60, seeds: int = 20, epsilon: float = 0.1) -> LearningCurve:
    """Moves per episode of Q-learning in :data:`MAZE`, averaged over ``seeds`` seeded runs."""
    totals = [0.0] * episodes
    for seed in range(seeds):
        agent, task = QLearningAgent(epsilon=epsilon, seed=seed), MazeTask()
        for e in range(episodes):
            totals[e] += task.run_episode(agent)
    return LearningCurve(list(range(1, episodes + 1)), [t / seeds for t in totals])
