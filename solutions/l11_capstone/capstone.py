"""Exercise l11.5, the capstone project: your own edge agent, graded by the evaluation harness.

Start with ``course capstone new AREA`` (``customer-service`` or
``healthcare``): it writes a working start in this file, lesson 00's agent
loop with the area's tools. ``course check l11`` then grades ``build`` on the
area's public tasks and on hidden ones, with a simulated small model that
fails the way SmolLM2 and Qwen did (it cannot chain calls, never refuses, and
repeats what it read), the fake cloud, the cloud cut, and SmolLM2 itself for
the budget. The page's section "The capstone project" lists the criteria and
their points.

You may use every part of the course except the reference agents themselves:
``kiosk_agent``, ``clinic_agent``, their follow-up rules and
``course.capstone.triage``.
"""

AREA = "customer-service"


def build(local, cloud=None):
    """A fresh agent and its world for one task: ``local`` is the small model, ``cloud`` a larger one or None.

    Return ``(agent, world)``: ``agent.run(text)`` answers one request, ``world`` is what its tools read and
    change (the harness looks at it after the run: hand-offs, bookings, the audit log).
    """
    ### BEGIN SOLUTION
    import re

    from course.capstone.agents import RedactingBackend, kiosk_tools, kiosk_world, redact_personal
    from course.capstone.guided import GuidedAgent
    from course.framework.escalation import EdgeCloudBackend

    def triage(text):
        lowered = text.lower()
        if re.search(r"\b(refund|money back|complain\w*|rude|stopped working|broken|faulty|bleeding|hurt|"
                     r"injur\w*|please help|collapsed|legal\w*|responsible|allerg\w*|lawyer)\b", lowered):
            return "handoff", "needs a member of staff"
        if re.search(r"\b(the (man|woman|person) (before|after|behind) me|my (neighbou?r|ex)\b|who (bought|ordered)|"
                     r"(his|her|their) (phone|address|number|order))", lowered):
            return "refuse", "another customer's data"
        return "answer", ""

    def follow_up(question, steps):
        skus = re.findall(r"\bNH-\d{4}\b", question.upper())
        if not skus:
            asked = set(re.findall(r"[a-z]+", question.lower()))
            found = [(len(asked & set(re.findall(r"[a-z]+", m.group(2).lower().replace("s ", " ")))), m.group(1))
                     for s in steps if s.call.name == "search_products"
                     for m in re.finditer(r"^(NH-\d{4}): ([^(]+)", s.content, re.MULTILINE)]
            best = max((n for n, _ in found), default=0)
            skus = [sku for n, sku in found if n == best and n > 0][:2]
        calls = []
        for sku in skus:
            if re.search(r"\b(stock|available|left|still have)\b", question, re.IGNORECASE):
                calls.append(("check_stock", {"sku": sku}))
            if re.search(r"\b(price|cost|much|deals?|offer|sale|discount|promotion)\b", question, re.IGNORECASE):
                calls.append(("get_price", {"sku": sku}))
        return calls

    def hard(messages):
        first = next((m.get("content") or "" for m in messages if m.get("role") == "user"), "")
        return bool(re.search(r"\b(cheaper|cheapest|compare|which of|altogether|both|total|recommend|anything "
                              r"i could)\b", first, re.IGNORECASE)) or len(first.split()) > 24

    world = kiosk_world()
    backend = RedactingBackend(local, redact_personal)
    if cloud is not None:
        backend = EdgeCloudBackend(backend, RedactingBackend(cloud, redact_personal), escalate=hard)
    agent = GuidedAgent(backend, kiosk_tools(world), instructions=(
        "You are the self-service kiosk of the Nordic Home store. Use the tools for products, stock, prices, "
        "opening hours and directions; never guess a price or a stock count."),
        follow_up=follow_up, triage=triage, handoff_tool="handoff_to_human", replies={
            "handoff": "I have called a member of staff, who will be with you in a moment.",
            "refuse": "Sorry, I cannot share anything about other customers or their orders."})
    return agent, world
    ### END SOLUTION
