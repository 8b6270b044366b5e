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
    # YOUR CODE HERE: exercise l11.5, The capstone project
    raise NotImplementedError("exercise l11.5: read lessons/l11_capstone/index.md#the-capstone-project, then run `course check l11`")
