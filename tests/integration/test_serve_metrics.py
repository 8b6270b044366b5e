"""course serve's Prometheus metrics at /metrics (lesson 10): counted, timed and labelled the standard way,
read back with prometheus_client's own parser."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from course.backends.fake import Endless, Reply, ScriptedBackend
from course.servers import CourseServer, Engine

CHAT = {"model": "smollm2-135m", "messages": [{"role": "user", "content": "hi"}]}


def fake_engine(first_token_delay: float) -> Engine:
    """One model that answers "one two three" (three tokens) after ``first_token_delay`` seconds."""
    def loader(alias, kind, n_ctx):
        return ScriptedBackend([Endless(Reply("one two three", first_token_delay=first_token_delay))])
    return Engine(["smollm2-135m"], loader=loader, estimate=lambda a, k, n: 2**20, reap_every_s=3600)


def scrape(server, **kwargs) -> dict[str, list]:
    response = httpx.get(server.url + "/metrics", timeout=10, **kwargs)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {family.name: family.samples for family in text_string_to_metric_families(response.text)}


def value(samples, name, **labels) -> float:
    found = [s.value for s in samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(found) == 1, (name, labels, [s for s in samples if s.name == name])
    return found[0]


def test_every_request_is_counted_timed_and_labelled():
    with CourseServer(port=0, engine=fake_engine(0.3)) as server:
        assert httpx.post(server.url + "/v1/chat/completions", json=CHAT, timeout=30).status_code == 200
        with httpx.stream("POST", server.url + "/api/chat", json=CHAT, timeout=30) as stream:
            assert stream.status_code == 200 and len(list(stream.iter_lines())) == 4  # three words, the final line
        assert httpx.post(server.url + "/v1/chat/completions", json={**CHAT, "model": "nope"}, timeout=30
                          ).status_code == 404
        families = scrape(server)
    requests = families["course_requests"]
    assert value(requests, "course_requests_total", face="openai", model="smollm2-135m", status="200") == 1
    assert value(requests, "course_requests_total", face="ollama", model="smollm2-135m", status="200") == 1
    assert value(requests, "course_requests_total", face="openai", model="", status="404") == 1
    assert value(families["course_generated_tokens"], "course_generated_tokens_total", model="smollm2-135m") == 6
    ttft = families["course_time_to_first_token_seconds"]
    for face in ("openai", "ollama"):
        # 0.3 s before the first word: in the 0.5 s bucket, not in the 0.25 s one
        assert value(ttft, "course_time_to_first_token_seconds_bucket", face=face, le="0.25") == 0
        assert value(ttft, "course_time_to_first_token_seconds_bucket", face=face, le="0.5") == 1
        assert value(families["course_request_duration_seconds"], "course_request_duration_seconds_count",
                     face=face, model="smollm2-135m") == 1
    assert value(families["course_queue_depth"], "course_queue_depth") == 0
    assert value(families["course_models_loaded"], "course_models_loaded") == 1
    assert value(families["process_resident_memory_bytes"], "process_resident_memory_bytes") > 10 * 2**20


def test_a_model_name_a_client_makes_up_adds_no_label():
    """Labels only take models the engine knows: a client cannot grow the series without bound."""
    with CourseServer(port=0, engine=fake_engine(0)) as server:
        for i in range(20):
            httpx.post(server.url + "/api/chat", json={**CHAT, "model": f"made-up-{i}"}, timeout=10)
        families = scrape(server)
    models = {s.labels["model"] for s in families["course_requests"] if s.name == "course_requests_total"}
    assert models == {""}


def test_metrics_need_the_key_when_the_server_has_one():
    with CourseServer(port=0, engine=fake_engine(0), api_key="k3y") as server:
        assert httpx.get(server.url + "/metrics", timeout=10).status_code == 401
        families = scrape(server, headers={"Authorization": "Bearer k3y"})
    assert "course_requests" in families
