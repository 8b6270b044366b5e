"""Exercise l07.4: a tool loop on the client side, over Ollama's ``/api/chat``.

Ollama returns a tool call with its arguments as a JSON *object*; the loop runs
the tool and sends the result back as a ``tool`` message naming the tool
(``tool_name``), then asks again, until the model answers in text.

Small models misbehave, so the loop defends itself: an unknown tool or a tool
that raises becomes an error message the model can read (the loop does not
crash); a call the model already made (same name, same arguments) is not run
again: instead the model is asked once more *without* tools, which leaves it
only one thing to do, answer.
"""

import json


def run_tool_loop(client, model: str, messages: list[dict], tools: dict, *, max_rounds: int = 4,
                  options: dict | None = None) -> str:
    """Chat with ``model`` through ``client`` (an ``ollama.Client``) until it answers in text.

    ``tools`` maps a name to a Python function (with a docstring and type hints, as the ``ollama``
    client turns functions into tool specs). ``messages`` is extended with every message of the
    exchange. Return the answer's text; raise ``RuntimeError`` if there is none after ``max_rounds``
    requests.
    """
    # YOUR CODE HERE: exercise l07.4, A tool loop on the client
    raise NotImplementedError("exercise l07.4: read lessons/l07_ollama/index.md#a-tool-loop-on-the-client, then run `course check l07`")
