"""The lesson 00 agent, unchanged, on Foundry Local: only the backend differs."""

from course.agent import Agent
from course.foundry.runtime import FoundryLocalBackend
from course.tools.clock import get_current_time

backend = FoundryLocalBackend("smollm2-135m")  # needs `course foundry prepare` once
print(f"{backend.model} loaded in {backend.load_s:.2f} s")
try:
    result = Agent(backend, [get_current_time], max_steps=3, max_tokens=64).run(
        "What time is it in Tokyo? Use the tool.")
    result.trace.print()  # every model reply and tool call, with its timings
    print("answer:", result.answer)
finally:
    backend.close()
