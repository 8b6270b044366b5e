"""Exercise l11.2: tool-call accuracy, with arguments compared the way a person would compare them.

A model writes ``{"query": "Kettles "}`` where the task expects
``{"query": "kettle"}``, or ``{"quantity": "2"}`` for ``{"quantity": 2}``.
Counting those as wrong would measure spelling, not behaviour. So values are
normalised before they are compared:

- text: lower case, runs of spaces made one, spaces and ``.``, ``!``, ``?``
  at either end removed; then, if it reads as a number, that number as a
  float; otherwise each word made singular (a word of more than 3 letters
  ending in ``ies`` ends in ``y`` instead; one ending in ``s`` but not ``ss``
  loses the ``s``);
- numbers (not booleans): floats;
- anything else (booleans, None): unchanged.

This is the rule of the course's evaluation harness
(``course.capstone.tasks``), which also lets a text argument say more than
the task asked: ``"electric kettles"`` satisfies ``"kettle"``.
"""


def normalise(value):
    """``value`` as it is compared."""
    # YOUR CODE HERE: exercise l11.2, Tool-call accuracy with argument normalisation
    raise NotImplementedError("exercise l11.2: read lessons/l11_capstone/index.md#tool-call-accuracy-with-argument-normalisation, then run `course check l11`")


def tool_accuracy(expected: list[dict], calls: list[dict]) -> float:
    """The share of ``expected`` calls (``{"name", "arguments"}``) that the agent's ``calls`` made.

    A call matches an expected one when the names are equal and every argument
    of the expected call is in the call with a matching value (other arguments
    do not matter). Values match when their normalised forms are equal, or,
    when both are text, when every word of the expected one is among the
    words of the call's (``"kettle"`` is matched by ``"electric kettles"``,
    not the other way round). Go through the expected calls in order: each
    takes the first of the agent's calls, not taken yet, that matches it (so a
    call counts once). No calls expected: 1.0 if none were made, else 0.0.
    """
    # YOUR CODE HERE: exercise l11.2, Tool-call accuracy with argument normalisation
    raise NotImplementedError("exercise l11.2: read lessons/l11_capstone/index.md#tool-call-accuracy-with-argument-normalisation, then run `course check l11`")
