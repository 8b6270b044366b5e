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
    ### BEGIN SOLUTION
    if fallback not in agents:
        raise ValueError(f"the fallback {fallback!r} is not one of the agents")
    lines = "\n".join(f"- {name}: {description}" for name, description in agents.items())
    messages = [{"role": "system", "content": "Choose the agent that should handle the user's request. "
                                              f"Answer with the agent's name only.\n\nAgents:\n{lines}"},
                {"role": "user", "content": text}]
    logprobs = backend.label_logprobs(messages, list(agents))
    top = max(logprobs.values())
    weights = {name: math.exp(value - top) for name, value in logprobs.items()}
    total = sum(weights.values())
    best = max(weights, key=weights.get)
    probability = weights[best] / total
    return (best if probability >= threshold else fallback), probability
    ### END SOLUTION
