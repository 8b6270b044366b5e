"""An agent on SmolLM2 within a deadline and a budget of generated tokens.

The same question four times: with no limit, with a generous deadline, with
a deadline too short for the reply (the model is stopped between two tokens,
and the run ends with stop_reason "over_budget" and the reason), and with a
budget of 8 tokens for the whole run (the tool call spends them; the answer
is refused before the model is even asked).
"""

from course.agent import Agent
from course.backends import LlamaCppBackend
from course.production.resources import Budget, run_within
from course.tools import tool


@tool
def stock(product: str) -> str:
    """How many of a product the shop has in stock."""
    return f"{product}: 12 in stock"


agent = Agent(LlamaCppBackend("smollm2-135m"), [stock], max_tokens=96,
              instructions="You are a shop assistant. Use the tool, then answer.")
agent.run("How many kettles are in stock?")  # loads the model before any clock starts

for budget in (Budget(), Budget(deadline_s=30), Budget(deadline_s=0.3), Budget(max_tokens=8)):
    result = run_within(agent, "How many kettles are in stock? Tell me about kettles too.", budget)
    limits = f"deadline {budget.deadline_s} s, token budget {budget.max_tokens}"
    print(f"{limits}: {result.stop_reason} after {budget.elapsed():.2f} s, {budget.calls} model call(s), "
          f"{budget.used_tokens} tokens")
    print("   ", (result.answer or result.error)[:160].replace("\n", " "))
