"""A Modelfile-style model: a served model plus a system prompt and default parameters.

Ollama's ``POST /api/create`` takes the fields a Modelfile's ``FROM``, ``SYSTEM``,
``PARAMETER`` and ``MESSAGE`` lines hold. ``course serve`` derives the new model
without copying weights; it refuses ``TEMPLATE`` and new weights, which would
need a real model build.
"""

import ollama

from course.servers import CourseServer

with CourseServer(port=0, models=["smollm2-135m"]) as server:
    client = ollama.Client(host=server.url)
    status = client.create(model="tutor", from_="smollm2-135m",
                           system="You are a patient tutor. Answer in one short sentence.",
                           parameters={"temperature": 0, "num_predict": 40})
    print("create:", status.status)
    print(client.show("tutor").modelfile)
    r = client.chat(model="tutor", messages=[{"role": "user", "content": "What is a GGUF file?"}])
    print("tutor:", r.message.content)
    try:
        client.create(model="odd", from_="smollm2-135m", template="{{ .Prompt }}")
    except ollama.ResponseError as exc:
        print("template refused:", exc.error[:60], "...")
