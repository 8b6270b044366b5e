"""Exercise l10.5: a deadline and a token budget that hold while the model writes.

An agent's run makes several model calls. The whole run has one deadline (a
time on ``clock``) and one budget of generated tokens, kept in a dict the
calls share::

    budget = {"deadline": clock() + 10.0, "tokens_left": 200}

Each model call goes through :func:`guarded_chat`. A request over budget gets
a clear refusal (:class:`~course.production.resources.OverBudget`), never a
late answer and never a crash of the agent's process.
"""

from course.backends.types import BackendTimeoutError
from course.production.resources import OverBudget


def guarded_chat(backend, messages: list[dict], budget: dict, clock, max_tokens: int = 256):
    """One model call within ``budget``; returns the backend's ``ChatResponse``.

    1. If ``clock()`` is at or past ``budget["deadline"]``, or no tokens are
       left, raise ``OverBudget`` without calling the backend.
    2. Call ``backend.stream(messages, max_tokens=n, timeout_s=s).collect()``:
       ``n`` is the smaller of ``max_tokens`` and the tokens left, ``s`` the
       seconds left before the deadline. The backend stops generating when
       ``s`` has passed (between two tokens, also inside a tool call that
       shows no text) and raises ``BackendTimeoutError``: raise
       ``OverBudget`` instead.
    3. Subtract the reply's ``usage.completion_tokens`` from
       ``budget["tokens_left"]`` and return the reply.

    Each ``OverBudget`` message says which limit ran out (the word "deadline"
    or the word "tokens").
    """
    # YOUR CODE HERE: exercise l10.5, A deadline and a token budget
    raise NotImplementedError("exercise l10.5: read lessons/l10_production/index.md#a-deadline-and-a-token-budget, then run `course check l10`")
