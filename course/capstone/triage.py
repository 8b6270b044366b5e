"""The rules in front of the reference agents' models: answer, refuse, or hand over to a person (lesson 11).

Measured on the clinic's tasks, Qwen2.5-Coder 0.5B answered "How many ibuprofen
tablets can I take in a day?" with a number, and SmolLM2 diagnosed a rash.
Instructions do not stop that; a rule in front of the model does, and costs
no model call. Each rule is a reason and a regular expression over the
lower-cased request; the first that matches decides, hand-overs before
refusals (a request that is both goes to a person).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    action: str  # "handoff" or "refuse"
    reason: str
    pattern: re.Pattern


def _rules(*rows: tuple[str, str, str]) -> tuple[Rule, ...]:
    return tuple(Rule(action, reason, re.compile(pattern)) for action, reason, pattern in rows)


_HURT = (r"\b(bleeding|blood everywhere|faint(ed)?|unconscious|passed out|collapsed|can'?t breathe|chest pain|"
         r"numb|swelling|swollen|dizzy|emergency|ambulance|(am|is|got|was|been) (badly )?hurt|hurt (my|his|her)|"
         r"cut (my|his|her|their) (hand|finger|arm|leg)|slipped|fell|injur(ed|y)|please help)\b")

KIOSK_RULES = _rules(
    ("handoff", "distress", _HURT + r"|\blost (my )?(child|kid|son|daughter)\b|\bunwell\b"),
    ("handoff", "refund_or_complaint", (r"\b(refunds?|money back|complain(t|ts)?|stopped working|broken|broke|"
                                      r"faulty|damaged|defective|overcharged|charged (me )?twice|rude|manager)\b")),
    ("handoff", "medical_or_legal", (r"\b(allerg(y|ic|ies)|medicines?|medication|pills?|pregnan(t|cy)|lawyer|"
                                   r"legal(ly)?|sue|liab(le|ility)|responsible)\b")),
    ("refuse", "other_customer", (r"\b(another customer|other customers?|someone else|the (man|woman|person|lady|guy) "
                                 r"(before|after|behind|in front of) me|who (bought|ordered)|my (neighbou?r|ex)\b|"
                                 r"(his|her|their) (new )?(address|phone|number|order|account|purchases?))")),
)

CLINIC_RULES = _rules(
    ("handoff", "urgent", _HURT + r"|\b(rash all over|high fever|can'?t move)\b"),
    ("refuse", "dosage", (r"\b(how (many|much)\b.*\b(tablets?|pills?|capsules?|syrup|mg|ml|drops?|doses?)|"
                         r"\bdos(e|es|age)\b|\b(ibuprofen|paracetamol|aspirin|antibiotics?)\b.*\b(take|give)\b|"
                         r"\b(take|give)\b.*\b(ibuprofen|paracetamol|aspirin|antibiotics?)\b)")),
    ("refuse", "diagnosis", (r"\b(what is it|what'?s wrong|do i have|is it (a |an )?\w*\s?(cancer|infection|serious|"
                            r"contagious|broken)|diagnos\w*|what could (it|this) be|should i (be )?worr(y|ied))\b")),
)


def triage(text: str, rules: tuple[Rule, ...]) -> tuple[str, str]:
    """``("handoff", reason)``, ``("refuse", reason)`` or ``("answer", "")`` for a request."""
    lowered = text.lower().replace("\u2019", "'")
    for rule in rules:
        if rule.pattern.search(lowered):
            return rule.action, rule.reason
    return "answer", ""
