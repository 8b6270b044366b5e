"""Debian's Prometheus against course serve, and the course's alert rules under promtool (lesson 10)."""

from __future__ import annotations

import shutil

import httpx
import pytest

from course.backends.fake import Endless, Reply, ScriptedBackend
from course.production.prometheus import PrometheusServer, check_rules, shipped_rules, test_rules
from course.servers import CourseServer, Engine
from extras import require_prometheus

require_prometheus()

CHAT = {"model": "smollm2-135m", "messages": [{"role": "user", "content": "hi"}], "stream": False}


def test_the_shipped_alert_rules_pass_their_promtool_tests():
    rules, tests = shipped_rules()
    checked = check_rules(rules)
    assert checked.ok and "SUCCESS: 6 rules found" in checked.output, checked.output
    tested = test_rules(tests)
    assert tested.ok and "SUCCESS" in tested.output, tested.output


@pytest.mark.parametrize("old,new", [
    ("model:course_request_duration_seconds:p95_5m > 5", "model:course_request_duration_seconds:p95_5m > 50"),
    ("course:error_ratio_5m > 0.10\n        for: 5m", "course:error_ratio_5m > 0.10\n        for: 1m"),
    ("course_queue_depth > 4 and deriv(course_queue_depth[5m]) > 0", "course_queue_depth > 4"),
    ("> 0.9 * 1024 * 1024 * 1024", "> 0.9 * 1024 * 1024"),
], ids=["slow-threshold-too-high", "errors-fire-too-soon", "queue-ignores-growth", "memory-budget-in-kib"])
def test_a_wrong_rule_fails_the_unit_tests(tmp_path, old, new):
    rules, tests = shipped_rules()
    text = rules.read_text()
    assert old in text
    (tmp_path / rules.name).write_text(text.replace(old, new))
    shutil.copy(tests, tmp_path / tests.name)
    result = test_rules(tmp_path / tests.name)
    assert not result.ok and "FAILED" in result.output, result.output


def test_prometheus_scrapes_course_serve_and_answers_promql():
    def loader(alias, kind, n_ctx):
        return ScriptedBackend([Endless(Reply("one two three", first_token_delay=0.02))])

    engine = Engine(["smollm2-135m"], loader=loader, estimate=lambda a, k, n: 2**20, reap_every_s=3600)
    rules, _ = shipped_rules()
    with CourseServer(port=0, engine=engine) as server, \
            PrometheusServer([f"127.0.0.1:{server.port}"], rule_files=[rules], scrape_interval_s=0.5) as prom:
        prom.wait_for_scrapes(1)
        for i in range(24):  # a bounded load: 20 answers and 4 requests for a model that is not there
            body = CHAT if i % 6 else {**CHAT, "model": "missing"}
            httpx.post(server.url + "/api/chat", json=body, timeout=30)
        prom.wait_for_scrapes(2)
        ok = prom.value('sum(course_requests_total{job="course-serve", status="200", face="ollama"})')
        missing = prom.value('sum(course_requests_total{job="course-serve", status="404"})')
        tokens = prom.value('sum(course_generated_tokens_total{job="course-serve"})')
        p95 = prom.value('histogram_quantile(0.95, sum by (le) (course_request_duration_seconds_bucket'
                         '{job="course-serve", model="smollm2-135m"}))')
        up = prom.value('up{job="course-serve"}')
        groups = httpx.get(prom.url + "/api/v1/rules", timeout=10).json()["data"]["groups"]
    assert (ok, missing, tokens, up) == (20, 4, 60, 1)
    assert 0.02 <= p95 <= 1.0  # the fake model waits 20 ms before its first word
    assert [g["name"] for g in groups] == ["course-serve"] and len(groups[0]["rules"]) == 6
