"""Exercise l05.3: a cascade that never loses a task.

The local model answers first. llama.cpp can report the log-probability of each
token it chose (``backend.record_logprobs = True``, then
``backend.last_logprobs`` after a greedy reply); their mean, as a probability,
says how sure the model was. A sure answer is kept; an unsure one goes to the
cloud. If the cloud fails, the local answer is still an answer: return it with
a notice, never an exception.
"""

import math

from course.backends import BackendError


def cascade(prompt: str, local, cloud, *, threshold: float, max_tokens: int = 64) -> dict:
    """Answer ``prompt``: ``{"answer", "route", "confidence", "notice"}``.

    - ``route`` is ``"local"`` or ``"cloud"``; ``confidence`` is
      ``exp(mean(local.last_logprobs))`` of the local answer;
    - the local reply is greedy (``temperature=0``) with ``record_logprobs`` on,
      and ``record_logprobs`` is off again afterwards, whatever happens;
    - a cloud that raises ``BackendError`` leaves the local answer in place, with
      a ``notice`` that names the failure; otherwise ``notice`` is None.
    """
    ### BEGIN SOLUTION
    messages = [{"role": "user", "content": prompt}]
    local.record_logprobs = True
    try:
        reply = local.chat(messages, temperature=0, max_tokens=max_tokens)
        logprobs = list(local.last_logprobs or [])
    finally:
        local.record_logprobs = False
    if not logprobs:
        raise ValueError("the local backend recorded no token log-probabilities")
    confidence = math.exp(sum(logprobs) / len(logprobs))
    result = {"answer": reply.content or "", "route": "local", "confidence": confidence, "notice": None}
    if confidence >= threshold:
        return result
    try:
        answer = cloud.chat(messages, temperature=0, max_tokens=max_tokens)
    except BackendError as exc:
        result["notice"] = f"the cloud failed ({exc}); this is the local model's answer"
        return result
    return result | {"answer": answer.content or "", "route": "cloud"}
    ### END SOLUTION
