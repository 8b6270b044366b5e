"""Personal data found and taken out before anything leaves the device or reaches a log (lesson 10).

:class:`Redactor` finds e-mail addresses, phone numbers, payment card numbers
(only those that pass the Luhn check), national identifiers (a US social
security number, a UK national insurance number, an Estonian *isikukood* with
its birth date and check digit) and the names it is given. It can:

- ``redact(text)``: replace each finding with its kind, ``[EMAIL]``;
- ``pseudonymise(text, vault)``: replace each with a token, ``<EMAIL_1>``, that
  the :class:`Vault` (kept on the device) turns back into the value with
  ``vault.restore(answer)``, for an agent that must use the value after a
  model that never saw it has answered.

:func:`evaluate` measures precision and recall per kind on a labelled set
(``course/data/pii_eval.jsonl``, written for the course).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

KINDS = ("EMAIL", "PHONE", "CARD", "NATIONAL_ID", "NAME")

EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])")
# 13 to 19 digits, in groups split by single spaces or dashes
CARD = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
# an optional +country code, an optional (area) code, then groups of digits split by spaces, dots or dashes
PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,5}(?![\w])")
SSN = re.compile(r"(?<![\w-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w-])")
NINO = re.compile(r"(?<![\w])(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![\w])")
ISIKUKOOD = re.compile(r"(?<![\w])[1-6]\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{4}(?![\w])")


def luhn_ok(digits: str) -> bool:
    """The Luhn check of a card number (digits only): every second digit from the right doubled."""
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def isikukood_ok(code: str) -> bool:
    """An Estonian personal code: a real birth date (century from the first digit) and its check digit."""
    if len(code) != 11 or not code.isdigit() or code[0] not in "123456":
        return False
    century = {"1": 1800, "2": 1800, "3": 1900, "4": 1900, "5": 2000, "6": 2000}[code[0]]
    try:
        dt.date(century + int(code[1:3]), int(code[3:5]), int(code[5:7]))
    except ValueError:
        return False
    digits = [int(c) for c in code]
    for weights in ([1, 2, 3, 4, 5, 6, 7, 8, 9, 1], [3, 4, 5, 6, 7, 8, 9, 1, 2, 3]):
        check = sum(d * w for d, w in zip(digits, weights)) % 11
        if check != 10:
            return check == digits[10]
    return digits[10] == 0


@dataclass(frozen=True, order=True)
class Finding:
    start: int
    end: int
    kind: str
    text: str


@dataclass
class Vault:
    """Tokens and the values they stand for; stays on the device."""

    values: dict[str, str] = field(default_factory=dict)  # token -> value
    counts: dict[str, int] = field(default_factory=dict)

    def token(self, kind: str, value: str) -> str:
        for token, known in self.values.items():
            if known == value and token.startswith(f"<{kind}_"):
                return token  # the same value gets the same token: the model can still tell them apart
        self.counts[kind] = self.counts.get(kind, 0) + 1
        token = f"<{kind}_{self.counts[kind]}>"
        self.values[token] = value
        return token

    def restore(self, text: str) -> str:
        """``text`` with every token of this vault put back as its value."""
        return re.sub(r"<[A-Z_]+_\d+>", lambda m: self.values.get(m.group(0), m.group(0)), text)


class Redactor:
    """Find and take out personal data; ``names`` are the people to recognise by name."""

    def __init__(self, names: Iterable[str] = (), kinds: Sequence[str] = KINDS):
        unknown = set(kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown kinds {sorted(unknown)}: the redactor knows {', '.join(KINDS)}")
        self.kinds = tuple(kinds)
        names = sorted({n.strip() for n in names if n.strip()}, key=len, reverse=True)
        self.names = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(n) for n in names) + r")(?!\w)",
                                re.IGNORECASE) if names else None

    def find(self, text: str) -> list[Finding]:
        """Every finding, longest and most specific first where two overlap, in the order of the text."""
        candidates: list[tuple[int, Finding]] = []  # (priority, finding): lower wins an overlap

        def add(priority: int, kind: str, m: re.Match) -> None:
            if kind in self.kinds:
                candidates.append((priority, Finding(m.start(), m.end(), kind, m.group(0))))

        for m in EMAIL.finditer(text):
            add(0, "EMAIL", m)
        for pattern in (SSN, NINO):
            for m in pattern.finditer(text):
                add(1, "NATIONAL_ID", m)
        for m in ISIKUKOOD.finditer(text):
            if isikukood_ok(m.group(0)):
                add(1, "NATIONAL_ID", m)
        for m in CARD.finditer(text):
            if luhn_ok(re.sub(r"\D", "", m.group(0))):
                add(2, "CARD", m)
        for m in PHONE.finditer(text):
            digits = re.sub(r"\D", "", m.group(0))
            if 8 <= len(digits) <= 15 and _phone_like(m.group(0)):
                add(3, "PHONE", m)
        if self.names is not None:
            for m in self.names.finditer(text):
                add(4, "NAME", m)
        chosen: list[Finding] = []
        for _, finding in sorted(candidates, key=lambda c: (c[0], -(c[1].end - c[1].start), c[1].start)):
            if all(finding.end <= f.start or finding.start >= f.end for f in chosen):
                chosen.append(finding)
        return sorted(chosen)

    def redact(self, text: str) -> str:
        return self._replace(text, lambda f: f"[{f.kind}]")

    def pseudonymise(self, text: str, vault: Vault) -> str:
        return self._replace(text, lambda f: vault.token(f.kind, f.text))

    def _replace(self, text: str, replacement) -> str:
        out, last = [], 0
        for f in self.find(text):
            out += [text[last:f.start], replacement(f)]
            last = f.end
        return "".join(out) + text[last:]


def _phone_like(candidate: str) -> bool:
    """A phone number starts with + or (, or its groups are split; a bare run of digits (an order number, an
    amount) is not taken for one, nor is a date or a time."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", candidate) or re.fullmatch(r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}", candidate):
        return False
    if candidate.startswith(("+", "(")):
        return True
    groups = re.split(r"[ .-]", candidate)
    return len(groups) >= 3 and candidate[0] == "0"


@dataclass
class Score:
    kind: str
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        present = self.true_positives + self.false_negatives
        return self.true_positives / present if present else 1.0


def shipped_set() -> list[dict]:
    """The course's labelled texts: ``{"text": ..., "names": [...], "spans": [[kind, "exact text"], ...]}``."""
    path = Path(str(resources.files("course.data") / "pii_eval.jsonl"))
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def evaluate(find, dataset: Sequence[dict]) -> dict[str, Score]:
    """Precision and recall per kind (and ``ALL``) of ``find(text, names) -> [(kind, start, end)]``: a finding
    counts when its kind and its exact span match a labelled one."""
    scores = {k: Score(k) for k in (*KINDS, "ALL")}
    for item in dataset:
        text = item["text"]
        expected = set()
        for kind, value in item["spans"]:
            start = text.find(value)
            if start < 0:
                raise ValueError(f"the labelled span {value!r} is not in {text!r}")
            expected.add((kind, start, start + len(value)))
        got = set(find(text, item.get("names", [])))
        for key in (k for k in got | expected):
            kind = key[0]
            for score in (scores[kind], scores["ALL"]):
                if key in got and key in expected:
                    score.true_positives += 1
                elif key in got:
                    score.false_positives += 1
                else:
                    score.false_negatives += 1
    return scores


def course_finder(text: str, names: Sequence[str]) -> list[tuple[str, int, int]]:
    return [(f.kind, f.start, f.end) for f in Redactor(names).find(text)]


# Presidio's entity types, in the course's kinds (the others it knows are left out of the comparison)
PRESIDIO_KINDS = {"EMAIL_ADDRESS": "EMAIL", "PHONE_NUMBER": "PHONE", "CREDIT_CARD": "CARD", "US_SSN": "NATIONAL_ID",
                  "UK_NINO": "NATIONAL_ID", "PERSON": "NAME"}


def _presidio_offline() -> None:
    """Before Presidio is imported: its e-mail check (tldextract) would fetch the public suffix list from the
    internet on first use; an empty list of addresses makes it use the copy it ships, without trying."""
    import os

    os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")


def presidio_analyzer():
    """Microsoft Presidio's analyzer, offline: its pattern recognizers on a blank spaCy pipeline (no model to
    download; a component copies each token's lower case into its lemma, so Presidio's context words still
    raise scores). Needs the ``production`` extra."""
    _presidio_offline()
    import logging

    import spacy
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import SpacyNlpEngine
    from spacy.language import Language

    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)  # "language not supported" for es/it/pl
    if "course_lowercase_lemma" not in Language.factories:
        @Language.component("course_lowercase_lemma")
        def lowercase_lemma(doc):
            for token in doc:
                token.lemma_ = token.lower_
            return doc

    class BlankSpacyNlpEngine(SpacyNlpEngine):
        def load(self) -> None:
            self.nlp = {}
            for model in self.models:
                nlp = spacy.blank(model["lang_code"])
                nlp.add_pipe("course_lowercase_lemma")
                self.nlp[model["lang_code"]] = nlp

    engine = BlankSpacyNlpEngine(models=[{"lang_code": "en", "model_name": "blank"}])
    return AnalyzerEngine(nlp_engine=engine, supported_languages=["en"])


def presidio_finder(analyzer=None, threshold: float = 0.3):
    """``find(text, names)`` for :func:`evaluate`, by Presidio: its findings of the kinds both know, and the
    given names through a deny-list recognizer (Presidio's NER for names needs a model it cannot download)."""
    _presidio_offline()
    from presidio_analyzer import PatternRecognizer

    analyzer = analyzer or presidio_analyzer()

    def find(text: str, names):
        recognizers = [PatternRecognizer(supported_entity="PERSON", deny_list=list(names))] if names else []
        results = analyzer.analyze(text=text, language="en", ad_hoc_recognizers=recognizers or None,
                                   score_threshold=threshold)
        found = [(PRESIDIO_KINDS[r.entity_type], r.start, r.end) for r in results if r.entity_type in PRESIDIO_KINDS]
        return sorted(set(found), key=lambda f: f[1])

    return find
