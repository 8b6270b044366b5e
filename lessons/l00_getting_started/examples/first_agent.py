"""A first agent: SmolLM2-135M and one tool, get_current_time."""

from course.agent import Agent
from course.backends import LlamaCppBackend
from course.tools.clock import get_current_time

backend = LlamaCppBackend("smollm2-135m")  # the default model: 98 MB, runs on any laptop
agent = Agent(backend, [get_current_time], max_steps=4)

result = agent.run("What time is it in the Asia/Tokyo timezone?")
print("answer:", result.answer)
print("stopped because:", result.stop_reason)
result.trace.print()  # every model reply and tool call, with its timings
