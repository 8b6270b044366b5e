"""Stream a reply token by token and read its timings."""

from course.backends import LlamaCppBackend

backend = LlamaCppBackend("smollm2-135m")
messages = [{"role": "user", "content": "Name three uses of a small language model on a laptop."}]

stream = backend.stream(messages, max_tokens=64)
for chunk in stream:  # chunks arrive as the model writes them
    print(chunk.content or "", end="", flush=True)
print()

response = stream.response  # the whole reply, assembled once the stream is done
timings = response.timings
print(f"time to first token: {timings.ttft_s * 1000:.0f} ms")
print(f"decode speed:        {timings.tokens_per_s:.1f} tokens/s")
print(f"tokens:              {response.usage.prompt_tokens} in, {response.usage.completion_tokens} out")
print(f"total:               {timings.total_s:.2f} s")
