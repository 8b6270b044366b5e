"""The escalation policy on its own: no model, just confidences, a budget and the network.

The policy escalates only when the local side is unsure, the cloud is
reachable, and the estimated cost fits in what is left of the budget.
"""

from course.routing import EscalationPolicy

policy = EscalationPolicy(threshold=0.7, budget=0.002)  # two tenths of a cent for the whole run
estimate = 0.0008  # what one cloud request is expected to cost (dollars)

cases = [  # (confidence of the local side, is the cloud reachable?)
    (0.93, True),   # sure enough: stays local, whatever the budget
    (0.40, True),   # unsure, online, affordable: escalates
    (0.40, False),  # unsure but offline: the local answer is the only one
    (0.55, True),   # escalates again
    (0.20, True),   # unsure, but the budget is almost spent
    (0.70, True),   # exactly at the threshold counts as confident
]
for confidence, online in cases:
    decision = policy.decide(confidence, online=online, estimated_cost=estimate)
    if decision.route == "cloud":
        policy.charge(estimate)  # a real run charges what the call actually cost
    print(f"confidence {confidence:.2f} online={online!s:5} -> {decision.route:5} ({decision.reason:11})"
          f"  budget left ${policy.left:.4f}")

for bad in (1.2, float("nan")):
    try:
        policy.decide(bad, online=True, estimated_cost=estimate)
    except ValueError as exc:
        print(f"confidence {bad}: ValueError: {exc}")
