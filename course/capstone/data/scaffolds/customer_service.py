"""My capstone agent (lesson 11): customer service, as the self-service kiosk of the Nordic Home store.

`course check l11` grades `build` with the course's evaluation harness, on
the kiosk's public tasks and on tasks it keeps hidden: success rate, tool-call
accuracy, refusals and hand-offs where required, personal data kept on the
device, no crash when the cloud is cut, and a budget of tokens and memory on
SmolLM2. The page's section "The capstone project" lists the points.

This start is lesson 00's agent loop with the kiosk's tools: it runs, and it
scores little. Make it better with what the course taught, for example:

- rules in front of the model for what it must refuse or hand to a person
  (exercise l11.4, lesson 10);
- calls the model cannot get wrong in form, and the steps a small model
  cannot chain done in code (lesson 00, this lesson's guided loop);
- hard questions to the cloud, and nothing lost when it is gone (lessons 05
  and 09: `course.framework.escalation.EdgeCloudBackend`);
- personal data out of everything that leaves the device (lesson 10).

You may use every part of the course except the reference agents themselves:
`kiosk_agent`, `clinic_agent`, their follow-up rules and `course.capstone.triage`.
"""

from course.agent import Agent
from course.capstone.agents import kiosk_tools, kiosk_world

AREA = "customer-service"

INSTRUCTIONS = (
    "You are the self-service kiosk of the Nordic Home store. Answer shoppers in one or two short sentences, "
    "using the tools for products, stock, prices, opening hours and directions.")


def build(local, cloud=None):
    """A fresh agent and its world for one task: ``local`` is the small model, ``cloud`` a larger one or None.

    Return ``(agent, world)``: ``agent.run(text)`` answers one request, ``world`` is what its tools read and
    change (the harness looks at it after the run: hand-offs, bookings, the audit log).
    """
    world = kiosk_world()
    agent = Agent(local, kiosk_tools(world), instructions=INSTRUCTIONS, max_steps=4, max_tokens=96)
    return agent, world
