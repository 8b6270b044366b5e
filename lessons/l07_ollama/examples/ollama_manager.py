"""The source's ``OllamaManager``, rewritten against the real API.

What changed, and why:

- pulling checks the *last* status line: ``/api/pull`` streams its progress
  with HTTP 200 from the start, so the status code says nothing about success;
- availability compares full names: ``/api/tags`` lists ``smollm2-135m:latest``;
- the health check asks ``/api/version``, the cheapest request there is;
- the agent gets an OpenAI-compatible client at ``/v1`` (there is no
  ``microsoft_agent_framework.Config(model_provider="ollama")``).
"""

import httpx
import ollama
import openai

from course.servers import CourseServer


class OllamaManager:
    def __init__(self, model: str, host: str = "http://127.0.0.1:11434"):
        self.model = model if ":" in model else model + ":latest"
        self.host = host
        self.client = ollama.Client(host=host, timeout=60)

    def healthy(self) -> bool:
        try:
            return httpx.get(self.host + "/api/version", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    def available(self) -> bool:
        return self.model in {m.model for m in self.client.list().models}

    def ensure_model_available(self) -> None:
        if self.available():
            return
        last = None
        for last in self.client.pull(self.model, stream=True):  # raises ollama.ResponseError on failure
            pass
        if last is None or last.status != "success":
            raise RuntimeError(f"pulling {self.model} did not finish: {last}")

    def openai_client(self) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.host + "/v1", api_key="ollama")  # any key: local servers ignore it


with CourseServer(port=0, models=["smollm2-135m"]) as server:
    manager = OllamaManager("smollm2-135m", host=server.url)
    print("healthy:", manager.healthy(), " available:", manager.available())
    manager.ensure_model_available()
    reply = manager.openai_client().chat.completions.create(
        model="smollm2-135m", messages=[{"role": "user", "content": "Say hello in French."}], temperature=0,
        max_tokens=20)
    print("through /v1:", reply.choices[0].message.content)
    try:
        OllamaManager("llama3.2", host=server.url).ensure_model_available()
    except ollama.ResponseError as exc:
        print(f"llama3.2: HTTP {exc.status_code}: {exc.error[:70]}...")
