"""The course inside a Jupyter notebook: lesson modules as cells, autograder tests as cells.

A notebook exported by ``course nbgrader export`` starts with a setup cell::

    from course.grading.notebook import NotebookLesson
    lesson = NotebookLesson("l00_getting_started")

which registers the ``%%module`` cell magic. A cell that starts with
``%%module time_tool`` holds the whole of the lesson file ``time_tool.py``: it
runs as a real module of its own (relative imports between the lesson's
modules work) and its exercise functions also become names in the notebook.
A test cell defines one autograder test, exactly as it reads in
``autograder/``, and runs it with ``lesson.run(test_name)``; fixtures
(``target``, ``smollm2``, ...) are supplied as pytest would supply them.

A failing test raises :class:`TestFailed`, so the cell ends in an error and
nbgrader gives it no points; a passing one prints a line and returns ``None``
(nbgrader reads a number left as a cell's result as partial credit). While a
test runs, anything written to standard error goes to standard output:
nbgrader scores a cell that wrote to stderr as failed, and a warning from a
library is not a wrong answer. A hidden test's failure says only that it failed.

This module runs in the kernel, next to the learner's code, and needs neither
``course.toml`` nor a checkout of the course: only the installed package.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import itertools
import linecache
import os
import sys
import traceback
import types
from typing import Any, Callable

from . import fixtures


class TestFailed(AssertionError):
    """An autograder test failed in a notebook; IPython shows :meth:`report`, not the runner's frames."""

    __test__ = False  # not a pytest test class

    def __init__(self, name: str, report: list[str], summary: str):
        super().__init__(summary)
        self.name = name
        self.report = report

    def _render_traceback_(self) -> list[str]:  # IPython's hook for custom tracebacks
        return self.report


class NotebookTarget:
    """The ``target`` fixture in a notebook: ``target.load("agent")`` is the module of the ``%%module agent`` cell."""

    def __init__(self, lesson: "NotebookLesson"):
        self._lesson = lesson

    def load(self, module: str) -> types.ModuleType:
        lesson = self._lesson
        if module in lesson.failed:
            raise lesson.submission_error(
                f"the cell `%%module {module}` failed when it ran ({lesson.failed[module]}): fix it and run it again")
        mod = sys.modules.get(f"{lesson.package}.{module}")
        if mod is None:
            raise lesson.submission_error(
                f"no cell defines module {module!r}: the notebook needs its `%%module {module}` cell, run before the tests")
        return mod


class NotebookLesson:
    """One lesson's modules and test runner inside a notebook kernel."""

    def __init__(self, slug: str, *, shell: Any = None):
        self.slug = slug
        self.package = f"_notebook_{slug}"
        self.failed: dict[str, str] = {}
        self.target = NotebookTarget(self)
        fixtures.load_hypothesis_profile()
        pkg = types.ModuleType(self.package)
        pkg.__path__ = []  # a namespace the %%module cells fill; nothing is imported from disk
        sys.modules[self.package] = pkg
        self.shell = shell if shell is not None else _ipython()
        if self.shell is not None:
            self.shell.register_magic_function(self._module_magic, magic_kind="cell", magic_name="module")

    # --- modules ---------------------------------------------------------

    def define_module(self, name: str, source: str) -> types.ModuleType:
        """Run ``source`` as the lesson module ``name`` (what a ``%%module name`` cell does)."""
        if not name.isidentifier():
            raise ValueError(f"%%module needs a module name such as time_tool, got {name!r}")
        full = f"{self.package}.{name}"
        filename = f"<cell %%module {name}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        mod = types.ModuleType(full)
        mod.__file__ = filename
        mod.__package__ = self.package
        sys.modules[full] = mod
        self.failed.pop(name, None)
        try:
            exec(compile(source, filename, "exec"), mod.__dict__)
        except BaseException as exc:
            sys.modules.pop(full, None)
            self.failed[name] = f"{type(exc).__name__}: {exc}"
            raise
        setattr(sys.modules[self.package], name, mod)
        return mod

    def _module_magic(self, line: str, cell: str) -> None:
        words = line.split()
        if len(words) != 1:
            raise ValueError(f"write the module's name after %%module, as in `%%module time_tool`; got {line!r}")
        mod = self.define_module(words[0], cell)
        # The lesson's public functions become notebook names, to try them in a scratch cell.
        if self.shell is not None:
            public = getattr(mod, "__all__", None) or [
                k for k, v in vars(mod).items()
                if not k.startswith("_") and inspect.isfunction(v) and v.__module__ == mod.__name__
            ]
            self.shell.user_ns.update({k: getattr(mod, k) for k in public})

    def submission_error(self, message: str) -> Exception:
        from .loader import SubmissionError

        return SubmissionError(message)

    # --- tests -----------------------------------------------------------

    def fixture(self, name: str) -> Any:
        if name == "target":
            return self.target
        if name in fixtures.FIXTURES:
            return fixtures.FIXTURES[name]()
        known = ", ".join(sorted((*fixtures.RUNNER_FIXTURES, *fixtures.FIXTURES)))
        raise TypeError(f"notebooks have no fixture {name!r} (they have {known}); add it to course/grading/fixtures.py")

    def cases(self, test: Callable) -> list[dict[str, Any]]:
        """One keyword dict per case of the test's ``pytest.mark.parametrize`` marks (one empty dict without)."""
        per_mark = []
        for mark in getattr(test, "pytestmark", []):
            if mark.name != "parametrize":
                continue
            names, values = mark.args[0], mark.args[1]
            names = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
            rows = []
            for value in values:
                if hasattr(value, "marks") and hasattr(value, "values"):  # pytest.param(...): always a tuple
                    rows.append(dict(zip(names, value.values)))
                elif len(names) == 1:
                    rows.append({names[0]: value})
                else:
                    rows.append(dict(zip(names, value)))
            per_mark.append(rows)
        cases = []
        for combo in itertools.product(*per_mark):
            merged: dict[str, Any] = {}
            for row in combo:
                merged.update(row)
            cases.append(merged)
        return cases or [{}]

    def run(self, test: Callable, *, hidden: bool = False) -> None:
        """Run one autograder test; raise :class:`TestFailed` when it fails. Returns ``None``."""
        name = getattr(test, "__name__", repr(test))
        params = inspect.signature(test).parameters
        for case in self.cases(test):
            kwargs = dict(case)
            out = io.StringIO()
            try:
                for p in params:
                    if p not in kwargs:
                        kwargs[p] = self.fixture(p)
                with _stderr_to(out if hidden else sys.stdout):
                    with contextlib.redirect_stdout(out) if hidden else contextlib.nullcontext():
                        test(**kwargs)
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # AssertionError, SystemExit from learner code, pytest's Failed, ...
                raise self._failure(name, exc, case, hidden) from None
        print(f"passed: {name}" if not hidden else "passed: a hidden test")

    def _failure(self, name: str, exc: BaseException, case: dict, hidden: bool) -> TestFailed:
        if hidden:
            text = "a hidden test failed: it checks a case the public tests do not show; reread the exercise's section"
            return TestFailed(name, [f"TestFailed: {text}"], text)
        where = f" with {case}" if case else ""
        frames = traceback.extract_tb(exc.__traceback__)
        # Drop this runner's own frames: the report starts in the test.
        frames = traceback.StackSummary.from_list([f for f in frames if f.filename != __file__])
        lines = [f"{name} failed{where}:", *"".join(frames.format()).rstrip().splitlines(),
                 *"".join(traceback.format_exception_only(type(exc), exc)).rstrip().splitlines()]
        summary = f"{name} failed{where}: {type(exc).__name__}: {exc}"
        return TestFailed(name, lines, summary)


@contextlib.contextmanager
def _stderr_to(stream):
    """Send Python's and the C libraries' standard error to ``stream`` / standard output for a while."""
    with contextlib.redirect_stderr(stream):
        try:
            saved = os.dup(2)
        except OSError:  # no fd 2 (some embedded kernels)
            yield
            return
        try:
            sys.stdout.flush()
            os.dup2(1, 2)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _ipython():
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()
