"""Foundry Local's built-in web service, asked with the real `openai` client: what it serves offline.

The SDK can start an OpenAI-compatible HTTP service in this process. This
example starts it with the course's model registered and loaded, then asks
it what a client would: the model list, and a chat completion.
"""

import openai

from course.foundry.runtime import FoundryLocalBackend, manager

backend = FoundryLocalBackend("smollm2-135m")  # registered in the local catalog and loaded
fl = manager()
fl.start_web_service()
try:
    print("web service at", fl.urls[0], "| model loaded in this process:", backend.handle.is_loaded)
    client = openai.OpenAI(base_url=fl.urls[0].rstrip("/") + "/v1", api_key="unused", max_retries=0)
    listed = [m.id for m in client.models.list()]
    print("GET /v1/models lists:", listed or "nothing")
    try:
        reply = client.chat.completions.create(
            model=backend.model, max_tokens=16,
            messages=[{"role": "user", "content": "What is the capital of France?"}])
        print("POST /v1/chat/completions answered:", reply.choices[0].message.content)
    except openai.APIStatusError as exc:
        print(f"POST /v1/chat/completions: HTTP {exc.status_code}: {exc.body.get('message') if exc.body else exc}")
finally:
    fl.stop_web_service()
    backend.close()
