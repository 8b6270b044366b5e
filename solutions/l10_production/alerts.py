"""Exercise l10.1: alert rules for `course serve`, tested the way Prometheus users test them.

`course serve` exports these metrics at ``/metrics`` (Prometheus scrapes them
with ``job="course-serve"``):

- ``up`` (written by Prometheus: 1 when the last scrape worked, 0 when not);
- ``course_time_to_first_token_seconds`` (a histogram, label ``model``);
- ``course_generated_tokens_total`` (a counter, label ``model``);
- ``course_requests_in_flight`` (a gauge: requests being answered now).

Return a Prometheus rule file as a dict (the grader writes it as YAML, checks
it with ``promtool check rules`` and runs ``promtool test rules`` on it) with
one group, ``course-serve-l10``, holding three alerts:

- ``CourseServeDown``: the server's scrape failed (``up == 0``) for 1 minute;
  label ``severity: page``;
- ``CourseServeSlowFirstToken``: per model, the 95th percentile of the time to
  first token over the last 5 minutes is above 2 seconds, for 5 minutes;
  label ``severity: warning``; the alert keeps the ``model`` label;
- ``CourseServeStalled``: requests are in flight but no token at all was
  generated in the last 2 minutes, for 2 minutes; label ``severity: critical``.

Every alert has an annotation ``summary`` that says what happened in words.
"""


def alert_rules() -> dict:
    """The rule file: ``{"groups": [{"name": "course-serve-l10", "rules": [...]}]}``."""
    ### BEGIN SOLUTION
    return {"groups": [{"name": "course-serve-l10", "rules": [
        {"alert": "CourseServeDown",
         "expr": 'up{job="course-serve"} == 0',
         "for": "1m",
         "labels": {"severity": "page"},
         "annotations": {"summary": "{{ $labels.instance }} has not answered Prometheus for a minute"}},
        {"alert": "CourseServeSlowFirstToken",
         "expr": "histogram_quantile(0.95, sum by (le, model) "
                 '(rate(course_time_to_first_token_seconds_bucket{job="course-serve"}[5m]))) > 2',
         "for": "5m",
         "labels": {"severity": "warning"},
         "annotations": {"summary": "{{ $labels.model }}: the p95 time to first token stayed above 2 s"}},
        {"alert": "CourseServeStalled",
         "expr": 'sum(course_requests_in_flight{job="course-serve"}) > 0 '
                 'and sum(rate(course_generated_tokens_total{job="course-serve"}[2m])) == 0',
         "for": "2m",
         "labels": {"severity": "critical"},
         "annotations": {"summary": "requests are in flight and no token was generated for 2 minutes"}},
    ]}]}
    ### END SOLUTION
