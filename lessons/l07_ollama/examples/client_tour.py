"""Ollama's REST API through the official ``ollama`` client, against ``course serve``.

In a terminal you would run ``course serve`` and use ``ollama.Client()`` (port
11434, Ollama's). This example starts the same server in-process on a free port
so that it runs on its own.
"""

import ollama

from course.servers import CourseServer

with CourseServer(port=0, models=["smollm2-135m", "gemma3-270m"]) as server:
    client = ollama.Client(host=server.url)

    # what is installed, and what one model is (GET /api/tags, POST /api/show)
    for m in client.list().models:
        print(f"{m.model:24} {m.size / 1e6:6.1f} MB  {m.details.quantization_level:7} {m.digest[:12]}")
    shown = client.show("smollm2-135m")
    print("capabilities:", shown.capabilities, " context length:", shown.modelinfo["llama.context_length"])

    # "pulling" resolves the model from the installed packages and checks its sha256 (POST /api/pull)
    print("pull:", " -> ".join(p.status for p in client.pull("smollm2-135m", stream=True)))

    # a chat, streamed as NDJSON: pieces of text, then a last line with counts and durations (ns)
    options = {"temperature": 0, "num_predict": 32}
    question = [{"role": "user", "content": "Name one planet."}]
    for part in client.chat(model="smollm2-135m", messages=question, options=options, stream=True):
        print(part.message.content, end="", flush=True)
        if part.done:
            print(f"\n[{part.eval_count} tokens in {part.eval_duration / 1e9:.2f} s = "
                  f"{part.eval_count / (part.eval_duration / 1e9):.0f} tokens/s, done_reason={part.done_reason}]")

    # plain completion on the base model (POST /api/generate): Gemma 3 270M has no chat template
    r = client.generate(model="gemma3-270m", prompt="The three primary colours are", options=options)
    print("gemma3-270m:", r.response.strip()[:80])

    # what is loaded now, how big, until when (GET /api/ps)
    for m in client.ps().models:
        print(f"loaded: {m.model:24} {m.size / 2**20:5.0f} MiB  context {m.context_length}  "
              f"until {m.expires_at:%H:%M:%S}")
