"""The source's production service, with a real queue: back-pressure, deadlines, workers (on `course serve` here;
any OpenAI-compatible URL, vLLM's included, works the same)."""

import time

import openai

from course.servers import CourseServer
from course.vllm.service import AgentService, ServiceBusy

with CourseServer(port=0, models=["smollm2-135m"]) as server:
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="unused")

    def send(message: str) -> str:
        reply = client.chat.completions.create(model="smollm2-135m", temperature=0, max_tokens=16,
                                               messages=[{"role": "user", "content": message}])
        return reply.choices[0].message.content

    with AgentService(send, workers=2, max_queue=4, timeout_s=60) as service:
        futures, refused = [], 0
        for i in range(10):  # ten arrive at once: the queue holds four, the rest are refused at once
            try:
                futures.append(service.submit(f"Say hello to visitor {i}."))
            except ServiceBusy:
                refused += 1
        start = time.perf_counter()
        answers = [f.result() for f in futures]
        print(f"{len(answers)} answered in {time.perf_counter() - start:.1f} s, {refused} refused at once (HTTP 429)")
        print("first answer:", repr(answers[0]))
        print("stats:", service.stats)
