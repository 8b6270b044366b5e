"""Exercise l11.4: the rule in front of the kiosk's model: answer, refuse, or hand over to a person.

A store's kiosk answers questions about products, prices, stock, hours and
directions. Some requests it must not handle, and a small model cannot be
trusted to notice them; a rule in front of the model can:

- **hand over** to a member of staff for a refund or money back, a
  complaint, a product that broke or hurt someone, a medical or legal matter
  (an allergy, an injury, a medicine, a lawyer, who is responsible), and a
  shopper in distress (a lost child, feeling unwell, someone bleeding or hurt,
  an emergency);
- **refuse** (politely, without a person) what would give away another
  customer's data: what someone else bought, their address, phone number or
  account;
- **answer** everything else, which the model and its tools do.

Hand-over comes first: a request that is both is handed over. The shipped
task file ``course/capstone/data/tasks/kiosk_public.jsonl`` marks requests
with ``must_handoff`` and ``must_refuse``; read it to see how people ask.
Hidden tests use requests you have not seen, so match meanings, not these
exact sentences (and mind words inside words: a pillow is not a pill).
"""


def triage(text: str) -> tuple[str, str]:
    """``("handoff", reason)``, ``("refuse", "other_customer")`` or ``("answer", "")``.

    ``reason`` is one of ``"refund_or_complaint"``, ``"medical_or_legal"``, ``"distress"``.
    """
    ### BEGIN SOLUTION
    import re

    lowered = text.lower()
    handoff = [
        ("distress", r"\b(lost (my )?(child|kid|son|daughter)|can'?t find my (child|kid|son|daughter|mum|mom|dad)|"
                     r"unwell|dizzy|faint(ed)?|bleeding|emergency|ambulance|chest pain|collapsed on|passed out|"
                     r"(is|got|was|am|been) (badly )?hurt|cut (his|her|my|their) (hand|finger|arm|leg)|"
                     r"please help)\b"),
        ("medical_or_legal", r"\b(allerg(y|ic|ies)|medicines?|medication|(take|taking|swallow(ed)?) .*\bpills?|"
                             r"dose|doctor|pregnan(t|cy)|lawyer|"
                             r"legal(ly)?|sue|contract|police|liab(le|ility)|responsible for|hurt my)\b"),
        ("refund_or_complaint", r"\b(refunds?|money back|complain(t)?|stopped working|broke(n)?|faulty|damaged|"
                                r"defective|overcharged|charged (me )?twice|rude|speak to (a|the) manager)\b"),
    ]
    for reason, pattern in handoff:
        if re.search(pattern, lowered):
            return "handoff", reason
    other = (r"\b(another customer|other customers?|someone else|the (man|woman|person|lady|guy) (before|after|"
             r"behind|in front of) me|my (neighbou?r|ex|wife|husband|colleague|friend)\b.*\b(bought|ordered|"
             r"address|phone|number|account)|who (bought|ordered)|(his|her|their) (new )?(address|phone|number|"
             r"order|account|purchases?))")
    if re.search(other, lowered):
        return "refuse", "other_customer"
    return "answer", ""
    ### END SOLUTION
