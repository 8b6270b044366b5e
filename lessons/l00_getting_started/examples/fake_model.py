"""A scripted model that gets everything wrong, and an agent that survives it."""

from course.agent import Agent
from course.backends import (
    CallTool,
    Endless,
    FakeClock,
    Reply,
    ScriptedBackend,
    malformed_tool_call,
    unknown_tool_call,
    wrong_types_call,
)
from course.tools.clock import get_current_time

tokyo = CallTool("get_current_time", {"timezone": "Asia/Tokyo"})
backend = ScriptedBackend([
    malformed_tool_call(),  # arguments that are not JSON: '{"timezone": "Europe/Par'
    unknown_tool_call(),  # a tool the agent does not have: launch_rocket
    wrong_types_call(),  # {"timezone": 42}
    tokyo,  # a valid call at last
    tokyo,  # ... and the same call again, as small models do
    Reply("Here is the current time in Tokyo."),
], clock=FakeClock())  # a fake clock: no meaningless timings
agent = Agent(backend, [get_current_time], max_steps=6)
result = agent.run("What time is it in Tokyo?")
result.trace.print()
print("answer:", result.answer)

# What the model read after its first mistake: an error it can act on.
print(backend.requests[1].messages[-1]["content"])
# After the repeated call the loop asked again with tools switched off.
print("last tool_choice:", backend.requests[-1].tool_choice)

# A model that never stops calling tools: max_steps ends the run.
stuck = Agent(ScriptedBackend([Endless(unknown_tool_call())]), [get_current_time], max_steps=3)
print("stuck model:", stuck.run("What time is it?").stop_reason)
