"""Grading: sandbox a target's code, run the autograder tests on it under a supervisor, score them."""

from .loader import SubmissionError, TargetLoader, load_module, resolve_target
from .runner import GradeReport, GradingError, TestResult, grade_files, grade_lesson
from .sandbox import CourseSnapshot
from .supervisor import Limits

__all__ = [
    "CourseSnapshot",
    "GradeReport",
    "GradingError",
    "Limits",
    "SubmissionError",
    "TargetLoader",
    "TestResult",
    "grade_files",
    "grade_lesson",
    "load_module",
    "resolve_target",
]
