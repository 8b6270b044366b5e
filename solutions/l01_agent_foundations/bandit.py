"""Exercises l01.4 and l01.5: a learning agent for the multi-armed bandit.

A row of slot machines (:class:`course.foundations.BernoulliBandit`) pays out
with different, unknown probabilities. The agent learns each arm's value (its
mean payout so far) from experience (l01.4), and chooses arms by
epsilon-greedy (l01.5): usually the arm that looks best, but with probability
``epsilon`` a random arm, because an arm it never tries is an arm it never
learns about.
"""

import random


class EpsilonGreedy:
    def __init__(self, arms: int, epsilon: float = 0.1, seed: int = 0):
        if arms < 1 or not 0.0 <= epsilon <= 1.0:
            raise ValueError(f"need arms >= 1 and 0 <= epsilon <= 1, got arms={arms}, epsilon={epsilon}")
        self.epsilon = epsilon
        self.rng = random.Random(seed)
        self.counts = [0] * arms  # pulls of each arm
        self.values = [0.0] * arms  # mean reward of each arm so far

    def learn(self, arm: int, reward: float) -> None:
        """Count the pull and move ``values[arm]`` to the mean of every reward seen from that arm,
        without keeping the rewards: new mean = old mean + (reward - old mean) / count."""
        ### BEGIN SOLUTION
        self.counts[arm] += 1
        self.values[arm] += (reward - self.values[arm]) / self.counts[arm]
        ### END SOLUTION

    def choose(self) -> int:
        """With probability ``epsilon`` (``self.rng.random() < self.epsilon``) a random arm
        (``self.rng.randrange(arms)``); otherwise the arm with the highest value, the lowest index on a tie."""
        ### BEGIN SOLUTION
        if self.rng.random() < self.epsilon:
            return self.rng.randrange(len(self.values))
        return max(range(len(self.values)), key=lambda a: (self.values[a], -a))
        ### END SOLUTION
