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
    # YOUR CODE HERE: exercise l10.1, Alert rules that promtool passes
    raise NotImplementedError("exercise l10.1: read lessons/l10_production/index.md#alert-rules-that-promtool-passes, then run `course check l10`")
