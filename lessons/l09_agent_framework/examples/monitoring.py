"""Metrics per agent and alerts that act: a slow model is swapped for a faster one.

Fakes only, with simulated latencies (no sleeping): the "big" model gets slower
as its load grows, an alert on the p95 latency switches the agent to the
"small" model, and a second rule logs when too many requests fail. Each alert
fires once when its rule starts to hold, not on every request while it holds.
"""

from course.agent import Agent
from course.backends import Endless, Reply, ScriptedBackend
from course.framework import AlertRule, Monitor, switch_backend

big = ScriptedBackend([Endless(Reply("a careful answer"))], model="big-model")
small = ScriptedBackend([Endless(Reply("a quick answer"))], model="small-model")
agent = Agent(big)
# simulated seconds per request for each model, and which requests fail
latency = {"big-model": [1.2, 1.4, 1.3, 2.0, 3.5, 5.2, 6.1, 6.8, 7.0, 7.4],
           "small-model": [0.4, 0.5, 0.4, 0.6, 0.5, 0.4, 0.5, 0.6, 0.5, 0.4]}
failures = {9, 10, 11, 12}

events = []
monitor = Monitor([
    AlertRule("slow", "p95_latency_s", above=4.0, action=switch_backend(agent, small, log=events), min_requests=5),
    AlertRule("failing", "success_rate", below=0.8, action=lambda name, m: events.append(
        f"{name}: success rate {m['success_rate']:.0%} over {m['requests']} requests (logged)"), min_requests=5),
], window=8)

for i in range(16):
    model = agent.backend.model
    answer = agent.run(f"question {i}").answer
    seconds = latency[model][i % 10]
    ok = i not in failures
    fired = monitor.observe("support", seconds, ok)
    m = monitor.metrics("support")
    print(f"#{i:2} {model:11} {seconds:4.1f} s {'ok  ' if ok else 'FAIL'} {answer!r:18} p95 {m['p95_latency_s']:4.1f} s,"
          f" success {m['success_rate']:4.0%}" + (f"  ALERT {', '.join(a.rule for a in fired)}" if fired else ""))

print("what the alerts did:")
for line in events:
    print("  ", line)
print(f"alerts fired: {[(a.rule, round(a.value, 2)) for a in monitor.alerts]}")
