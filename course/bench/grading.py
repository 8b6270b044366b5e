"""How long grading takes: one complete submission, and a class, serial beside parallel.

Submissions are copies of the reference solutions (every test runs to the end,
the slowest case for the grader). The batch is graded twice in the same run:
with one worker (the serial reference) and with ``workers`` workers.

What isolation costs is measured in the same run: one complete submission
graded the old way (the submission imported into the tests' own process), as
two processes exchanging values (``--no-isolation``), and as two processes with
the submission's under bubblewrap, interleaved, the median of ``repeats``.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ..exercises.meta import Course, load_course
from ..grading.batch import grade_batch
from ..grading.isolation import bwrap_problem
from ..grading.supervisor import Limits


@dataclass
class GradingBench:
    lessons: int
    one_submission_s: float
    submissions: int
    serial_s: float
    parallel_s: float
    workers: int
    all_full_points: bool
    shortfalls: list[str]  # "student lesson test: outcome, message" for every test a reference copy failed
    isolation_s: dict[str, float] = None  # one submission: mode (inprocess, process, bwrap) -> median seconds
    isolation_note: str = ""  # why a mode is missing

    @property
    def speedup(self) -> float:
        return self.serial_s / self.parallel_s if self.parallel_s else 0.0

    def to_dict(self) -> dict:
        return asdict(self) | {"speedup": self.speedup}


def make_submissions(course: Course, root: Path, count: int, lessons: list | None = None) -> Path:
    for i in range(count):
        for lesson in lessons or course.lessons:
            shutil.copytree(course.solutions_dir / lesson.slug, root / f"student{i:02d}" / lesson.slug,
                            ignore=shutil.ignore_patterns("__pycache__"))
    return root


def bench_grading(submissions: int = 30, workers: int = 2, progress=None,
                  lessons: list[str] | None = None, repeats: int = 1) -> GradingBench:
    """Grade copies of the reference solutions; ``lessons`` (ids or slugs) limits it to some lessons."""
    course = load_course()
    chosen = [course.lesson(name) for name in lessons] if lessons else list(course.lessons)
    names = [lesson.slug for lesson in chosen]
    with tempfile.TemporaryDirectory(prefix="course-bench-grading-") as tmp:
        one = make_submissions(course, Path(tmp) / "one", 1, chosen)
        start = time.perf_counter()
        single = grade_batch(one, course=course, lessons=names, workers=1)
        one_s = time.perf_counter() - start
        modes = ["inprocess", "process"] + ([] if bwrap_problem() else ["bwrap"])
        timings: dict[str, list[float]] = {m: [] for m in modes}
        runs = []
        for _ in range(max(1, repeats)):
            for mode in modes:  # interleaved: a slow spell of the machine falls on every mode alike
                start = time.perf_counter()
                runs.append(grade_batch(one, course=course, lessons=names, workers=1,
                                        limits=Limits(isolation=mode)))
                timings[mode].append(time.perf_counter() - start)
        isolation_s = {m: statistics.median(v) for m, v in timings.items()}
        many = make_submissions(course, Path(tmp) / "many", submissions, chosen)
        start = time.perf_counter()
        serial = grade_batch(many, course=course, lessons=names, workers=1, progress=progress)
        serial_s = time.perf_counter() - start
        start = time.perf_counter()
        parallel = grade_batch(many, course=course, lessons=names, workers=workers, progress=progress)
        parallel_s = time.perf_counter() - start
    shortfalls = [f"{st.student} {slug} {t.name}: {t.outcome}, {t.message[:300]}"
                  for r in (single, serial, parallel, *runs) for st in r.students
                  for slug, rep in st.reports.items() for t in rep.tests if t.outcome != "passed"]
    return GradingBench(len(chosen), one_s, submissions, serial_s, parallel_s, workers, not shortfalls,
                        shortfalls, isolation_s, bwrap_problem() or "")
