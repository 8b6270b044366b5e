"""course serve under a memory limit: the model that does not fit is refused, the server goes on.

This process limits its own address space to 1100 MiB (as `ulimit -v` or a
container would), then serves SmolLM2 and Qwen. Qwen needs more than is left,
so it is never loaded: its requests get a 503 that says why and what to do.
SmolLM2 fits and answers. Without the check, llama.cpp would start loading and
fail half-way, or abort the whole process (see the table on the page).
"""

import resource

import httpx

from course.servers import CourseServer

LIMIT_MIB = 1100
resource.setrlimit(resource.RLIMIT_AS, (LIMIT_MIB << 20, LIMIT_MIB << 20))

with CourseServer(port=0, models=["smollm2-135m", "qwen2.5-coder-0.5b"], log=None) as server:
    for model in ("qwen2.5-coder-0.5b", "smollm2-135m"):
        r = httpx.post(server.url + "/v1/chat/completions", timeout=120, json={
            "model": model, "max_tokens": 12, "temperature": 0,
            "messages": [{"role": "user", "content": "Name a colour."}]})
        body = r.json()
        said = body["choices"][0]["message"]["content"] if r.status_code == 200 else body["error"]["message"]
        print(f"{model}: HTTP {r.status_code}\n   {said[:300]}")
    loaded = httpx.get(server.url + "/api/ps", timeout=10).json()["models"]
    print("loaded now:", [m["name"] for m in loaded])
