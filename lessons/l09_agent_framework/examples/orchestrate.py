"""Routing by intent on SmolLM2, a fallback when a specialist fails, and a supervisor that delegates.

1. IntentRouter on the real SmolLM2-135M: the model only scores the agents'
   names (label probabilities), so it can never name an agent that does not
   exist; below the threshold the request goes to the fallback agent.
2. Orchestrator with scripted specialists, one of which is down.
3. Supervisor with scripted backends: each worker is an ask_<worker> tool.
"""

import time

from course.agent import Agent
from course.backends import BackendError, LlamaCppBackend, Reply, ScriptedBackend
from course.backends.fake import CallTool, Raise
from course.framework import IntentRouter, Orchestrator, Supervisor

AGENTS = {"billing": "invoices, refunds, payments and prices",
          "tech": "devices, apps and accounts that do not work",
          "general": "anything else"}

REQUESTS = ["I was charged twice on my last invoice.",
            "My phone app crashes every time I open it.",
            "What are your opening hours?",
            "Can I get a refund for the broken charger?"]

start = time.perf_counter()
model = LlamaCppBackend("smollm2-135m")
print("1. intent routing on SmolLM2-135M (threshold 0.5, fallback 'general')")
for order in (["billing", "tech", "general"], ["tech", "general", "billing"]):
    router = IntentRouter(model, {name: AGENTS[name] for name in order}, fallback="general", threshold=0.5)
    print(f"  agents listed as {order}:")
    for text in REQUESTS:
        got = router.route(text)
        shares = " ".join(f"{name} {p:.2f}" for name, p in got.probabilities.items())
        print(f"    {text[:44]:44} -> {got.agent:8} confidence {got.confidence:.2f}"
              f" fell_back={got.fell_back!s:5} ({shares})")
print(f"  ({time.perf_counter() - start:.1f} s, model load included)")


class Specialist:
    """A stand-in for a specialist agent: answers with a fixed text, or fails."""

    def __init__(self, answer=None, error=None):
        self.answer, self.error = answer, error

    def run(self, text, *, history=()):
        if self.error:
            raise self.error
        return Agent(ScriptedBackend([Reply(self.answer)])).run(text, history=history)


class SureOf:
    """A scripted router model that is sure of one agent, to make the run below repeatable."""

    def __init__(self, name):
        self.name = name

    def label_logprobs(self, messages, labels):
        return {label: 0.0 if label == self.name else -5.0 for label in labels}


print("2. an orchestrator whose billing specialist is down")
orchestrator = Orchestrator(IntentRouter(SureOf("billing"), AGENTS, fallback="general"),
                            {"billing": Specialist(error=BackendError("billing model: connection refused")),
                             "tech": Specialist("Try reinstalling the app."),
                             "general": Specialist("I will pass your refund request to a colleague.")})
handled = orchestrator.handle("I want a refund.")
print(f"  routed to {handled.routing.agent} ({handled.routing.confidence:.2f}), answered by {handled.agent}:"
      f" {handled.answer!r}")
print(f"  notice: {handled.notice}")

print("3. a supervisor delegating to two workers through ask_<worker> tools")
math_worker = Agent(ScriptedBackend([Reply("56")]))
writer = Agent(ScriptedBackend([Reply("Seven boxes of eight make fifty-six.")]))
manager = ScriptedBackend([CallTool("ask_math", {"request": "7 times 8"}),
                           CallTool("ask_writer", {"request": "a sentence saying 7 boxes of 8 make 56"}),
                           Reply("7 times 8 is 56: seven boxes of eight make fifty-six.")])
boss = Supervisor(manager, {"math": ("does arithmetic", math_worker),
                            "writer": ("writes one clear sentence", writer)})
result = boss.run("How much is 7 times 8? Put it in a sentence.")
print("  tools offered to the manager:", [t["function"]["name"] for t in manager.requests[0].tools])
for worker, request, answer in boss.calls:
    print(f"  {worker:6} asked {request!r:45} -> {answer!r}")
print("  manager's answer:", result.answer)

# a worker that fails becomes an error result the manager reads, not a crash
broken = Supervisor(ScriptedBackend([CallTool("ask_math", {"request": "7 times 8"}), Reply("The math worker is down.")]),
                    {"math": ("does arithmetic", Agent(ScriptedBackend([Raise(BackendError("out of memory"))])))})
result = broken.run("What is 7 times 8?")
print("  with a broken worker the manager was told:", result.trace.tool_steps[0].content[:80])
