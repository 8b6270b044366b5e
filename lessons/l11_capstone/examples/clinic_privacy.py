"""The clinic agent keeps personal data on the device: redacted in the audit log and before the cloud.

The local model here is the fake cloud playing the task's reference behaviour
(so the run is the same on every machine); the checks are the harness's own:
the task succeeds only if no personal code, phone number or name reached the
cloud or the log.
"""

from course.capstone.agents import CLINIC_TOOLS, clinic_agent
from course.capstone.cloud import TaskCloud
from course.capstone.evaluate import run_task
from course.capstone.tasks import load_tasks, public_tasks

tasks = load_tasks(public_tasks("clinic"), tools=set(CLINIC_TOOLS))
task = next(t for t in tasks if t.id == "patient-028")
print("the patient writes:", task.input)

model = TaskCloud(tasks, "handoff_to_clinician")  # stands in for a model that does what the task expects
result = run_task("clinic", task, model, names=["Mari Tamm"])
print("calls:", result.calls)
print("answer:", result.answer)
print("success:", result.success, "| personal data in the cloud or the log:", result.leaked or "none")

agent, world = clinic_agent(model)
agent.run(task.input)
for entry in world.audit.entries():
    print("audit:", entry.user, entry.tool, entry.arguments)
