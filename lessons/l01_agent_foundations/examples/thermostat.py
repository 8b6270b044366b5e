"""A simple reflex thermostat for a simulated day in five rooms: comfort and energy."""

from course.foundations import Room, SimpleReflexAgent, comfort_rules, run_thermostat

agent = SimpleReflexAgent(comfort_rules(low=19.0, high=23.0))
for seed in range(5):
    room = Room(seed=seed)
    run = run_thermostat(agent, room)
    window_heat = sum(a == "heat" and p.window_open for p, a in zip(run.percepts, run.actions))
    print(f"room {seed}: outside about {room.outside[0]:5.1f} C, comfortable {run.comfortable_fraction(19, 23):4.0%} "
          f"of the day, heater or cooler on {run.energy:2d}/96 steps, heating with the window open {window_heat:2d}")

# Which rule fired, for one percept: the agent needs nothing but the percept.
from course.foundations import ThermostatPercept

percept = ThermostatPercept(temperature=17.5, window_open=True)
print(f"{percept} -> rule {agent.rule_for(percept).name!r} -> {agent.act(percept)}")
