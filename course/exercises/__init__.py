"""The exercise pipeline: metadata (``course.toml``) and the generator of ``exercises/``."""

from .meta import Course, CourseError, Exercise, Lesson, find_root, load_course

__all__ = ["Course", "CourseError", "Exercise", "Lesson", "find_root", "load_course"]
