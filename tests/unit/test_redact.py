"""The course's personal-data redactor (lesson 10): Luhn-checked cards, national identifiers with their check
digits, reversible pseudonymisation, and its precision and recall on the shipped labelled set."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from course.production.redact import (
    Redactor,
    Vault,
    course_finder,
    evaluate,
    isikukood_ok,
    luhn_ok,
    shipped_set,
)


def with_check_digit(body: str) -> str:
    """``body`` and the digit that makes it pass the Luhn check."""
    return body + next(d for d in "0123456789" if luhn_ok(body + d))


card_bodies = st.text("0123456789", min_size=15, max_size=15).filter(lambda b: b[0] != "0")
words = st.text("abcdefghij ", max_size=20)


@given(card_bodies, st.sampled_from([" ", "-", ""]), words, words)
def test_a_card_that_passes_luhn_is_found_and_one_that_fails_is_not(body, sep, before, after):
    number = with_check_digit(body)
    written = sep.join(number[i:i + 4] for i in range(0, 16, 4))
    text = f"{before} card {written} {after}"
    found = Redactor().find(text)
    assert [(f.kind, f.text) for f in found] == [("CARD", written)]
    assert written not in Redactor().redact(text) and "[CARD]" in Redactor().redact(text)
    wrong = written[:-1] + str((int(written[-1]) + 1) % 10)
    assert all(f.kind != "CARD" for f in Redactor().find(f"{before} card {wrong} {after}"))


@given(st.lists(st.tuples(st.text("abcxyz", min_size=1, max_size=6), st.sampled_from(["example.com", "mail.ee"])),
                min_size=1, max_size=4), words)
def test_pseudonyms_go_back_to_the_values(addresses, filler):
    emails = [f"{user}@{domain}" for user, domain in addresses]
    text = filler + " " + " and ".join(emails) + "."
    vault = Vault()
    hidden = Redactor().pseudonymise(text, vault)
    assert not any(email in hidden for email in emails)
    assert vault.restore(hidden) == text
    assert len(set(vault.values)) == len(set(emails))  # one token per distinct address, reused for repeats


def test_an_estonian_code_needs_its_date_and_check_digit():
    assert isikukood_ok("37605030299") and isikukood_ok("49403136526")
    assert not isikukood_ok("37605030298")  # the check digit
    assert not isikukood_ok("37613030299")  # month 13
    assert not isikukood_ok("77605030299")  # no century 7


def test_names_are_found_whole_and_in_any_case():
    found = Redactor(["Maria Tamm"]).find("maria tamm, Mariana Tammik and MARIA TAMM")
    assert [f.text for f in found] == ["maria tamm", "MARIA TAMM"]


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="knows EMAIL"):
        Redactor(kinds=["EMAIL", "PASSPORT"])


def test_precision_and_recall_on_the_shipped_set():
    """40 texts written for the course, with personal data of each kind and near misses (order numbers, dates,
    an ISBN, an IP address, a card and a personal code with wrong check digits)."""
    data = shipped_set()
    assert len(data) >= 40
    scores = evaluate(course_finder, data)
    for kind, score in scores.items():
        print(f"{kind:12} precision {score.precision:.3f} recall {score.recall:.3f}")
    assert scores["ALL"].precision >= 0.95 and scores["ALL"].recall >= 0.95
    assert scores["CARD"].precision == 1.0 and scores["NATIONAL_ID"].precision == 1.0
