"""A task file: what a user asks and what a good agent does, one JSON object per line, checked when read.

The kiosk's public tasks are shipped with the course; a broken file is refused
with every problem and its line, so it can be fixed in one go.
"""

import tempfile
from pathlib import Path

from course.capstone.agents import KIOSK_TOOLS
from course.capstone.tasks import TaskFileError, load_tasks, public_tasks

tasks = load_tasks(public_tasks("kiosk"), tools=set(KIOSK_TOOLS))
print(f"{len(tasks)} public kiosk tasks, {sum(t.hard for t in tasks)} marked hard")
task = tasks[4]
print(task.id, repr(task.input))
print("  expected calls:", [(c.name, c.arguments) for c in task.expected_tools])
print("  the answer must hold any of", task.contains_any, "and all of", task.contains_all)

broken = ('{"id": "x-1", "input": "Where is the cafe?", "category": "directions", "expected_tools": '
          '[{"name": "directions", "arguments": {"place": "cafe"}}], "answer_checks": {}, "forbidden_tools": '
          '["teleport"], "must_refuse": false, "must_handoff": "no", "hard": false}\n'
          '{"id": "x-1", "input": ""}\n')
with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "broken.jsonl"
    path.write_text(broken)
    try:
        load_tasks(path, tools=set(KIOSK_TOOLS))
    except TaskFileError as error:
        print(f"{len(error.problems)} problems, for example:")
        for problem in error.problems[:4]:
            print("  ", problem)
