"""A learner's progress: which exercises passed, how many hints were shown.

Stored in ``.course/progress.json`` in the course folder (git-ignored), written
atomically so an interrupted command never leaves a broken file.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .meta import Course


@dataclass
class Progress:
    path: Path
    passed: dict[str, bool] = field(default_factory=dict)  # exercise id -> passed at last check
    hints_shown: dict[str, int] = field(default_factory=dict)
    scores: dict[str, list[int]] = field(default_factory=dict)  # lesson slug -> [points, max]

    @classmethod
    def load(cls, course: Course) -> Progress:
        path = course.root / ".course" / "progress.json"
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            data = {}  # no progress yet, or a damaged file: start over rather than crash
        return cls(path, data.get("passed", {}), data.get("hints_shown", {}), data.get("scores", {}))

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"passed": self.passed, "hints_shown": self.hints_shown, "scores": self.scores}
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix="progress.")
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2)
        os.replace(tmp, self.path)

    def record(self, report) -> None:
        """Remember the result of a check of the learner's exercises."""
        for ex_id, summary in report.exercises().items():
            self.passed[ex_id] = summary["passed"]
        self.scores[report.lesson] = [report.points, report.max_points]

    def next_hint(self, exercise_id: str, total: int) -> int:
        """The index of the hint to show now (advancing the counter, capped at the last)."""
        shown = self.hints_shown.get(exercise_id, 0)
        index = min(shown, total - 1)
        self.hints_shown[exercise_id] = min(shown + 1, total)
        return index
