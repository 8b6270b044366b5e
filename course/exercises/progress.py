"""A learner's progress: which exercises passed, with how many points, how many hints were shown.

Stored in ``.course/progress.json`` in the course folder (git-ignored), written
atomically so an interrupted command never leaves a broken file. Results are
kept per exercise, so a check of one exercise (``course check l00.1``) counts,
and ``course reset`` forgets exactly what it put back.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .meta import Course, Exercise, Lesson


@dataclass
class Progress:
    path: Path
    passed: dict[str, bool] = field(default_factory=dict)  # exercise id -> passed at its last check
    hints_shown: dict[str, int] = field(default_factory=dict)
    points: dict[str, list[int]] = field(default_factory=dict)  # exercise id -> [points, max] at its last check
    last_passed: str | None = None  # the exercise that passed most recently
    failing: dict[str, list[str]] = field(default_factory=dict)  # exercise id -> public tests failing at its last check

    @classmethod
    def load(cls, course: Course) -> Progress:
        path = course.root / ".course" / "progress.json"
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            data = {}  # no progress yet, or a damaged file: start over rather than crash
        return cls(path, data.get("passed", {}), data.get("hints_shown", {}), data.get("points", {}),
                   data.get("last_passed"), data.get("failing", {}))

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"passed": self.passed, "hints_shown": self.hints_shown, "points": self.points,
                "last_passed": self.last_passed, "failing": self.failing}
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix="progress.")
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2)
        os.replace(tmp, self.path)

    def record(self, report) -> list[str]:
        """Remember the result of a check of the learner's exercises (a whole lesson or one exercise);
        returns the exercises that passed now and had not passed before."""
        newly = []
        for ex_id, summary in report.exercises().items():
            if summary["passed"] and not self.passed.get(ex_id):
                newly.append(ex_id)
            self.passed[ex_id] = summary["passed"]
            self.points[ex_id] = [summary["points"], summary["max_points"]]
            self.failing[ex_id] = [t.name for t in report.tests
                                   if t.exercise == ex_id and not t.hidden and t.outcome != "passed"]
        if newly:
            self.last_passed = newly[-1]
        return newly

    def forget(self, exercise_ids) -> None:
        """Drop the recorded results of these exercises (their files were reset); hints seen stay seen."""
        for ex_id in exercise_ids:
            self.passed.pop(ex_id, None)
            self.points.pop(ex_id, None)
            self.failing.pop(ex_id, None)
            if self.last_passed == ex_id:
                self.last_passed = None

    def lesson_score(self, lesson: Lesson) -> tuple[int, int] | None:
        """Points of the lesson's checked exercises, out of the lesson's whole total; None if none was checked."""
        checked = [self.points[ex.id] for ex in lesson.exercises if ex.id in self.points]
        if not checked:
            return None
        return sum(p for p, _ in checked), sum(ex.max_points for ex in lesson.exercises)

    def course_points(self, course: Course) -> tuple[int, int]:
        """Points earned at the last checks, out of every exercise's points."""
        exercises = course.exercises_in_order()
        return sum(self.points.get(ex.id, [0, 0])[0] for ex in exercises), sum(ex.max_points for ex in exercises)

    def first_unfinished(self, exercises) -> Exercise | None:
        return next((ex for ex in exercises if not self.passed.get(ex.id)), None)

    def current(self, course: Course) -> Exercise | None:
        """The current exercise: the first one, in course order, that has not passed (None when all have)."""
        return self.first_unfinished(course.exercises_in_order())

    def next_hint(self, exercise_id: str, total: int) -> int | None:
        """The index of the hint to show now (advancing the counter), or None once every hint was shown."""
        shown = self.hints_shown.get(exercise_id, 0)
        if shown >= total:
            return None
        self.hints_shown[exercise_id] = shown + 1
        return shown
