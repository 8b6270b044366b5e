"""The real Microsoft Agent Framework, through ``course serve``'s OpenAI face: one tool round trip.

``OpenAIChatCompletionClient`` speaks chat completions (``OpenAIChatClient`` speaks
the Responses API, which local servers do not have). A 135M model calls a tool
again and again if allowed, so the framework's own limit,
``max_function_calls``, makes it answer after one call.
"""

import asyncio
from typing import Annotated

from agent_framework import Agent, tool
from agent_framework.openai import OpenAIChatCompletionClient

from course.servers import CourseServer


@tool(approval_mode="never_require")
def get_weather(city: Annotated[str, "the city"]) -> str:
    """Get the current weather in a city."""
    return f"It is sunny and 21 C in {city}."


async def main(url: str) -> None:
    client = OpenAIChatCompletionClient(model="smollm2-135m", base_url=url + "/v1", api_key="unused")
    client.function_invocation_configuration["max_function_calls"] = 1
    agent = Agent(client, instructions="You answer questions about the weather using the tool.", name="weather",
                  tools=[get_weather], default_options={"temperature": 0, "max_tokens": 80})
    result = await agent.run("What is the weather in Paris?")
    for message in result.messages:
        for content in message.contents:
            detail = getattr(content, "arguments", None) or getattr(content, "result", None) or content.text
            print(f"{message.role:9} {content.type:16} {str(detail)[:70]}")


with CourseServer(port=0, models=["smollm2-135m"]) as server:
    asyncio.run(main(server.url))
