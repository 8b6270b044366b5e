"""The Microsoft Agent Framework on real vLLM: Qwen2.5-Coder-0.5B calls a tool with tool_choice="auto".

vLLM's ``hermes`` parser finds calls between ``<tool_call>`` tags; this small
Qwen writes the JSON alone, so with ``hermes`` "auto" returns no call. The
server here loads the course's parser (``course/vllm/qwen_tool_parser.py``,
``--tool-parser-plugin``), which also accepts a reply that is exactly one
call in bare JSON naming an offered tool.
"""

import asyncio
from typing import Annotated

import openai
from agent_framework import Agent, tool
from agent_framework.openai import OpenAIChatCompletionClient

from course.agent import Agent as CourseAgent
from course.backends import make_backend
from course.tools.clock import get_current_time
from course.vllm.server import VllmServer, VllmSettings


@tool(approval_mode="never_require")
def get_weather(city: Annotated[str, "the city"]) -> str:
    """Get the current weather in a city."""
    return f"It is sunny and 21 C in {city}."


async def main(url: str) -> list[str]:
    client = OpenAIChatCompletionClient(model="qwen2.5-coder-0.5b", base_url=url + "/v1", api_key="unused")
    client.function_invocation_configuration["max_function_calls"] = 1
    agent = Agent(client, instructions="Use the tool to answer questions about the weather.", name="weather",
                  tools=[get_weather], default_options={"temperature": 0, "max_tokens": 80})
    result = await agent.run("What is the weather in Paris?")
    kinds = []
    for message in result.messages:
        for content in message.contents:
            detail = getattr(content, "arguments", None) or getattr(content, "result", None) or content.text
            print(f"{message.role:9} {content.type:16} {str(detail)[:70]}")
            kinds.append(content.type)
    return kinds


settings = VllmSettings(model="qwen2.5-coder-0.5b", tools=True, max_model_len=2048)  # its HF form is made on demand
with VllmServer(settings) as server:
    print(f"vLLM with the course's tool parser, started in {server.started_s:.0f} s")
    raw = openai.OpenAI(base_url=server.url + "/v1", api_key="unused").chat.completions.create(
        model="qwen2.5-coder-0.5b", temperature=0, max_tokens=60, tool_choice="auto",
        messages=[{"role": "user", "content": "What time is it in Tokyo?"}],
        tools=[{"type": "function", "function": {"name": "get_current_time", "description": "The time in a zone",
                "parameters": {"type": "object", "properties": {"timezone": {"type": "string"}},
                               "required": ["timezone"]}}}])
    call = raw.choices[0].message.tool_calls
    print("openai client, tool_choice=auto:", call[0].function.name if call else None,
          call[0].function.arguments if call else raw.choices[0].message.content)
    assert call and call[0].function.name == "get_current_time", "the parser plugin found no call"
    kinds = asyncio.run(main(server.url))
    assert "function_call" in kinds and "function_result" in kinds, kinds

    # lesson 00's own agent loop, through the course's OpenAI-compatible backend
    backend = make_backend("openai", server.url + "/v1", "qwen2.5-coder-0.5b")
    result = CourseAgent(backend, [get_current_time], max_steps=3, max_tokens=64).run("What time is it in Tokyo?")
    first = result.trace.tool_steps[0]
    print(f"the course's agent: {first.call.name}({first.call.arguments}) -> {first.content}; then "
          f"{len(result.trace.tool_steps) - 1} more call(s), stop reason {result.stop_reason!r}")
    assert any(s.call.name == "get_current_time" and s.ok for s in result.trace.tool_steps)
