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
    ### BEGIN SOLUTION
    seen = set()
    offer = list(tools.values())
    for _ in range(max_rounds):
        reply = client.chat(model=model, messages=messages, tools=offer or None, options=options)
        message = reply.message
        calls = message.tool_calls or []
        if not calls:
            messages.append({"role": "assistant", "content": message.content or ""})
            return message.content or ""
        keys = [(c.function.name, json.dumps(dict(c.function.arguments), sort_keys=True)) for c in calls]
        if all(key in seen for key in keys):
            offer = []  # the same call again: ask for the answer, without tools
            continue
        messages.append({"role": "assistant", "content": message.content or "", "tool_calls": [
            {"function": {"name": c.function.name, "arguments": dict(c.function.arguments)}} for c in calls]})
        for call, key in zip(calls, keys):
            seen.add(key)
            fn = tools.get(call.function.name)
            if fn is None:
                result = f"error: unknown tool {call.function.name!r}; the tools are {', '.join(tools)}"
            else:
                try:
                    result = str(fn(**dict(call.function.arguments)))
                except Exception as exc:
                    result = f"error: {type(exc).__name__}: {exc}"
            messages.append({"role": "tool", "tool_name": call.function.name, "content": result})
    raise RuntimeError(f"no answer after {max_rounds} requests")
    ### END SOLUTION
