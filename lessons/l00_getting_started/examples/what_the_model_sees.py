"""What SmolLM2 reads when it is offered a tool, the grammar its reply must follow,
and what it does with a question no tool can answer."""

from course.backends import ChatRequest, LlamaCppBackend
from course.backends.grammar import tool_call_grammar_text
from course.tools.clock import get_current_time

backend = LlamaCppBackend("smollm2-135m")
joke = [{"role": "user", "content": "Tell me a joke."}]
spec = get_current_time.spec()

# 1. The prompt: SmolLM2's ChatML template, with the tools described in the system message.
print(backend.render_prompt(ChatRequest(messages=joke, tools=[spec], tool_choice="auto")))

# 2. The GBNF grammar compiled from the tool's JSON schema: every reply is either
#    "message:" and free text, or "functions.get_current_time:" and valid arguments.
print(tool_call_grammar_text([spec], allow_answer=True, tagged=False))

# 3. Offered the tool, the 135M model calls it, although no clock tells a joke ...
with_tools = backend.chat(joke, tools=[get_current_time], max_tokens=48)
print("with tools:   ", with_tools.tool_calls or with_tools.content)

# ... and without tools it answers in text.
without_tools = backend.chat(joke, max_tokens=48)
print("without tools:", without_tools.content)
