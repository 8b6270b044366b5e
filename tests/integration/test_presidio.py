"""Microsoft Presidio beside the course's redactor, offline (lesson 10): its pattern recognizers on a blank spaCy
pipeline, on the same labelled set."""

from __future__ import annotations

import logging

from extras import require_extra

require_extra("production")

from course.production.redact import Redactor, course_finder, evaluate, presidio_finder, shipped_set  # noqa: E402


def test_presidio_runs_offline_and_checks_cards_like_the_course(caplog):
    with caplog.at_level(logging.WARNING):
        find = presidio_finder()
        got = find("Pay with 4111 1111 1111 1111, not 4111 1111 1111 1112; mail jane@example.com.", [])
    assert ("CARD", 9, 28) in got and not any(f[0] == "CARD" and f[1] > 30 for f in got)
    assert any(f[0] == "EMAIL" for f in got)
    assert "Public Suffix List" not in caplog.text  # nothing tried to reach the internet


def test_both_on_the_shipped_set():
    data = shipped_set()
    course, presidio = evaluate(course_finder, data), evaluate(presidio_finder(), data)
    for kind in course:
        print(f"{kind:12} course {course[kind].precision:.3f}/{course[kind].recall:.3f}   "
              f"presidio {presidio[kind].precision:.3f}/{presidio[kind].recall:.3f}  (precision/recall)")
    # what Presidio cannot know offline here: an Estonian personal code (it has no recognizer for one)
    code = "Isikukood 37605030299, please confirm."
    assert not any(kind == "NATIONAL_ID" for kind, *_ in presidio_finder()(code, []))
    assert [f.kind for f in Redactor().find(code)] == ["NATIONAL_ID"]
    assert presidio["CARD"].recall == course["CARD"].recall == 1.0
