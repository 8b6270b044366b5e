"""A room, a heater-cooler and the simple reflex agent that drives it.

The simple reflex agent acts on the current percept alone, through
condition-action rules tried in order: the first rule whose condition holds
picks the action. It keeps no memory, so it cannot tell a room that is
warming up from one that is cooling down: it only sees the thermometer now.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable

ACTIONS = ("heat", "cool", "off")


@dataclass(frozen=True)
class ThermostatPercept:
    temperature: float  # degrees Celsius, what the thermometer reads now
    window_open: bool


@dataclass(frozen=True)
class Rule:
    name: str
    condition: Callable[[ThermostatPercept], bool]
    action: str

    def __post_init__(self):
        if self.action not in ACTIONS:
            raise ValueError(f"rule {self.name!r}: action {self.action!r} is not one of {ACTIONS}")


class SimpleReflexAgent:
    """Acts by the first rule whose condition holds for the current percept."""

    def __init__(self, rules: list[Rule], default: str = "off"):
        if not rules:
            raise ValueError("a simple reflex agent needs at least one rule")
        self.rules = list(rules)
        self.default = default

    def rule_for(self, percept: ThermostatPercept) -> Rule | None:
        return next((r for r in self.rules if r.condition(percept)), None)

    def act(self, percept: ThermostatPercept) -> str:
        rule = self.rule_for(percept)
        return rule.action if rule else self.default


def comfort_rules(low: float = 19.0, high: float = 23.0) -> list[Rule]:
    """The plainest thermostat: heat below ``low``, cool above ``high``, otherwise off."""
    if low >= high:
        raise ValueError(f"low ({low}) must be below high ({high})")
    return [
        Rule("too cold", lambda p: p.temperature < low, "heat"),
        Rule("too hot", lambda p: p.temperature > high, "cool"),
        Rule("comfortable", lambda p: True, "off"),
    ]


class Room:
    """A room that drifts toward the outside temperature; deterministic given its seed.

    Each step the room moves a fraction of the way to the outside temperature
    (a larger fraction with the window open), the heater adds and the cooler
    removes ``power`` degrees, and the thermometer reads with a little noise.
    The outside temperature and the window follow a schedule drawn from the seed.
    """

    def __init__(self, seed: int = 0, start: float = 15.0, power: float = 2.0, steps: int = 96):
        rng = random.Random(seed)
        self.power = power
        self.temperature = start
        base = rng.uniform(-5.0, 30.0)
        self.outside = [base + 6.0 * rng.uniform(-1, 1) for _ in range(steps)]
        self.window = []
        open_ = False
        for _ in range(steps):
            if rng.random() < (0.25 if open_ else 0.04):  # windows open now and then, briefly
                open_ = not open_
            self.window.append(open_)
        self._noise = [rng.gauss(0.0, 0.2) for _ in range(steps)]
        self.t = 0
        self.steps = steps

    def percept(self) -> ThermostatPercept:
        return ThermostatPercept(round(self.temperature + self._noise[self.t], 2), self.window[self.t])

    def step(self, action: str) -> None:
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}: use one of {ACTIONS}")
        leak = 0.25 if self.window[self.t] else 0.05
        self.temperature += leak * (self.outside[self.t] - self.temperature)
        self.temperature += {"heat": self.power, "cool": -self.power, "off": 0.0}[action]
        self.t += 1

    @property
    def done(self) -> bool:
        return self.t >= self.steps


@dataclass
class ThermostatRun:
    percepts: list[ThermostatPercept]
    actions: list[str]
    temperatures: list[float]

    @property
    def energy(self) -> int:
        """Steps with the heater or the cooler on."""
        return sum(a != "off" for a in self.actions)

    def comfortable_fraction(self, low: float, high: float) -> float:
        return sum(low <= t <= high for t in self.temperatures) / len(self.temperatures)


def run_thermostat(agent, room: Room) -> ThermostatRun:
    percepts, actions, temps = [], [], []
    while not room.done:
        p = room.percept()
        a = agent.act(p)
        room.step(a)
        percepts.append(p)
        actions.append(a)
        temps.append(room.temperature)
    return ThermostatRun(percepts, actions, temps)
