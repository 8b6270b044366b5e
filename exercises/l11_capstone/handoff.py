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
    # YOUR CODE HERE: exercise l11.4, Answer, refuse or hand over
    raise NotImplementedError("exercise l11.4: read lessons/l11_capstone/index.md#answer-refuse-or-hand-over, then run `course check l11`")
