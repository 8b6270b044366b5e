"""Exercise l09.2: the intent router.

A small model picks which agent handles a request. Asked to write a name, a
135M model may write one that does not exist; asked instead how likely each
*existing* name is (``backend.label_logprobs(messages, names)``), it can only
choose among them. When even its best choice is unlikely, the request goes to
the fallback agent.
"""

import math


def route_intent(backend, text: str, agents: dict, *, fallback: str, threshold: float = 0.5) -> tuple:
    """``(agent name, probability)`` for ``text``; ``(fallback, probability)`` below ``threshold``.

    ``agents`` maps names to descriptions. The system message lists them, one
    ``"- name: description"`` line each, and asks for the name only; the user
    message is ``text``. Probabilities are the label log-probabilities
    normalised over the agents. ``ValueError`` if ``fallback`` is not an agent.
    """
    # YOUR CODE HERE: exercise l09.2, The intent router
    raise NotImplementedError("exercise l09.2: read lessons/l09_agent_framework/index.md#the-intent-router, then run `course check l09`")
