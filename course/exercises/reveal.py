"""A passed exercise's reference solution, shown beside the learner's own code.

Solutions unlock one exercise at a time (as rustlings does): once an exercise
passes, ``course solution l00.1`` shows the reference of *that exercise's
functions only* (a file can hold several exercises, and the others may still be
open), without the instructor's ``### BEGIN SOLUTION`` / ``### END SOLUTION``
markers, as a unified diff from the learner's function to the reference one.
"""

from __future__ import annotations

import ast
import difflib
import re
from dataclasses import dataclass

from .generate import BEGIN, END
from .meta import Course, Exercise


@dataclass
class FunctionSolution:
    function: str
    learner_file: str  # relative to the course folder
    solution_file: str
    reference: str  # the reference function, markers removed
    diff: str  # unified diff from the learner's function to the reference; "" when they are the same
    learner_has_it: bool  # False when the learner's file lacks the function or does not parse


def strip_markers(source: str) -> str:
    """``source`` without the lines that are only a solution marker."""
    return "".join(line for line in source.splitlines(keepends=True) if line.strip() not in (BEGIN, END))


def function_lines(source: str, name: str) -> tuple[list[str], int] | None:
    """The lines of the first function called ``name`` (decorators included) and its first line number (1-based)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    lines = source.splitlines()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            start = min([d.lineno for d in node.decorator_list] + [node.lineno])
            return lines[start - 1:node.end_lineno], start
    return None


_HUNK = re.compile(r"^@@ -(\d+)(,\d+)? \+(\d+)(,\d+)? @@")


def _shift_hunks(diff: list[str], old_start: int, new_start: int) -> list[str]:
    """Renumber hunk headers from function-relative lines to file lines."""
    def shift(m: re.Match) -> str:
        return (f"@@ -{int(m[1]) + old_start - 1}{m[2] or ''} +{int(m[3]) + new_start - 1}{m[4] or ''} @@")

    return [_HUNK.sub(shift, line) if line.startswith("@@") else line for line in diff]


def exercise_solution(course: Course, exercise: Exercise) -> list[FunctionSolution]:
    """The reference of each function of ``exercise``, with a diff from the learner's version of it."""
    lesson = course.lesson(exercise.lesson)
    learner_rel = f"exercises/{lesson.slug}/{exercise.file}"
    solution_rel = f"solutions/{lesson.slug}/{exercise.file}"
    reference_source = strip_markers((course.root / solution_rel).read_text())
    learner_path = course.root / learner_rel
    learner_source = strip_markers(learner_path.read_text()) if learner_path.is_file() else ""
    out = []
    for name in exercise.functions:
        found = function_lines(reference_source, name)
        if found is None:
            continue  # course.toml names it, the generator checked it: only a broken checkout gets here
        ref_lines, ref_start = found
        mine = function_lines(learner_source, name)
        mine_lines, mine_start = mine if mine else ([], 1)
        diff = list(difflib.unified_diff(mine_lines, ref_lines, f"yours: {learner_rel}", f"reference: {solution_rel}",
                                          n=max(len(mine_lines), len(ref_lines)), lineterm=""))
        out.append(FunctionSolution(name, learner_rel, solution_rel, "\n".join(ref_lines),
                                    "\n".join(_shift_hunks(diff, mine_start, ref_start)), mine is not None))
    return out
