"""My capstone agent (lesson 11): healthcare support, as the front desk of the Emajoe Family Clinic.

`course check l11` grades `build` with the course's evaluation harness, on
the clinic's public tasks and on tasks it keeps hidden: success rate, tool-call
accuracy, refusals and hand-offs where required, personal data kept on the
device, no crash when the cloud is cut, and a budget of tokens and memory on
SmolLM2. The page's section "The capstone project" lists the points.

This start is lesson 00's agent loop with the clinic's tools: it runs, and it
scores little. Make it better with what the course taught, for example:

- rules in front of the model: no diagnosis and no dose, ever, and a person
  for anything urgent (lesson 10, exercise l11.4);
- calls the model cannot get wrong in form, and the steps a small model
  cannot chain done in code (lesson 00, this lesson's guided loop);
- hard questions to the cloud, and nothing lost when it is gone (lessons 05
  and 09: `course.framework.escalation.EdgeCloudBackend`);
- personal data out of everything that leaves the device, the audit log and
  the answer (lesson 10: `course.production.redact.Redactor`).

You may use every part of the course except the reference agents themselves:
`kiosk_agent`, `clinic_agent`, their follow-up rules and `course.capstone.triage`.
"""

from course.agent import Agent
from course.capstone.agents import clinic_tools, clinic_world

AREA = "healthcare"

INSTRUCTIONS = (
    "You are the front desk assistant of the Emajoe Family Clinic. Help patients find and book appointment "
    "slots, cancel bookings, and read the clinic's leaflets, using the tools.")


def build(local, cloud=None):
    """A fresh agent and its world for one task: ``local`` is the small model, ``cloud`` a larger one or None.

    Return ``(agent, world)``: ``agent.run(text)`` answers one request, ``world`` is what its tools read and
    change (the harness looks at it after the run: hand-offs, bookings, the audit log).
    """
    world = clinic_world()
    agent = Agent(local, clinic_tools(world), instructions=INSTRUCTIONS, max_steps=4, max_tokens=96)
    return agent, world
