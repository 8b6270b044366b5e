"""Grading: load a target's code, run the autograder tests on it, score them from course.toml."""

from .loader import SubmissionError, TargetLoader, load_module, resolve_target
from .runner import GradeReport, GradingError, TestResult, grade_lesson

__all__ = [
    "GradeReport",
    "GradingError",
    "SubmissionError",
    "TargetLoader",
    "TestResult",
    "grade_lesson",
    "load_module",
    "resolve_target",
]
