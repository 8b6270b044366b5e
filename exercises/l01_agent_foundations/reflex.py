"""Exercise l01.1: order a simple reflex agent's rules.

A simple reflex agent (:class:`course.foundations.SimpleReflexAgent`) tries its
rules in order and acts by the first whose condition holds. Write the rules of
a thermostat that is safe and thrifty, in the right order:

1. frost guard: below ``frost`` degrees, heat, whatever else is true
   (the pipes must not freeze, even with the window open);
2. window open: switch off (do not heat or cool the street);
3. too cold: below ``low``, heat;
4. too hot: above ``high``, cool;
5. otherwise: off.

The boundaries belong to the calmer side: exactly ``low`` or exactly ``high``
is comfortable, exactly ``frost`` is not frost.
"""

from course.foundations import Rule


def safe_rules(low: float = 19.0, high: float = 23.0, frost: float = 5.0) -> list[Rule]:
    """The thermostat's rules, most urgent first. ``frost < low < high``, else ``ValueError``."""
    # YOUR CODE HERE: exercise l01.1, Order a simple reflex agent's rules
    raise NotImplementedError("exercise l01.1: read lessons/l01_agent_foundations/index.md#the-simple-reflex-agent, then run `course check l01`")
