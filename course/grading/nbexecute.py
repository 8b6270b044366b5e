"""nbgrader's autograde, made to survive a submission that kills or hangs its kernel.

nbgrader runs a submission's notebook in one kernel. Out of the box, a kernel
that dies (``os._exit``, a segfault, the out-of-memory killer) makes nbgrader
drop the whole submission with an error, and a loop that ignores the timeout's
interrupt leaves every later cell timing out too. :class:`CourseExecute`
replaces nbgrader's ``Execute`` step: when a cell kills the kernel or runs past
the timeout, that cell gets an error output (so a test cell scores 0), the
kernel is restarted, the cells that build the notebook's state (every code cell
before it that is not a graded test) run again quietly, and grading goes on with
the next cell. A cell that killed the kernel is never run again. Every other
cell is graded exactly as nbgrader would grade it.

``use_course_executor(c)`` in ``nbgrader_config.py`` installs it, and keeps
hidden tests out of the feedback nbgrader generates.
"""

from __future__ import annotations

import copy

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from traitlets import Bool

from nbgrader.preprocessors import ClearHiddenTests, Execute


def _is_graded_test(cell: NotebookNode) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


class CourseExecute(Execute):
    """nbgrader's ``Execute`` that restarts a dead or hung kernel and goes on with the next cell."""

    # A hung cell is stopped by restarting its kernel, not by an interrupt a loop could swallow.
    interrupt_on_timeout = Bool(False).tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        from nbclient import NotebookClient

        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        self.shutdown_kernel = "immediate"
        poisoned: set[int] = set()  # cells that killed the kernel: never run again
        start = 0
        while start < len(self.nb.cells):
            index = None
            with self.setup_kernel():
                info = self.wait_for_reply(self.kc.kernel_info())
                self.nb.metadata["language_info"] = info["content"]["language_info"]
                try:
                    for index in range(start):
                        cell = self.nb.cells[index]
                        if cell.cell_type == "code" and index not in poisoned and not _is_graded_test(cell):
                            self.execute_cell(copy.deepcopy(cell), index, store_history=False)
                    for index in range(start, len(self.nb.cells)):
                        self.preprocess_cell(self.nb.cells[index], resources, index)
                    start = len(self.nb.cells)
                except (DeadKernelError, CellTimeoutError) as exc:
                    if index >= start:  # the cell being graded; while replaying, the cell is only skipped from now on
                        self._record_failure(self.nb.cells[index], exc)
                        start = index + 1
                    poisoned.add(index)
                    self.log.warning("cell %d: %s; restarting the kernel and going on", index, type(exc).__name__)
        self.set_widgets_metadata()
        return self.nb, self.resources

    def _record_failure(self, cell: NotebookNode, exc: Exception) -> None:
        if isinstance(exc, CellTimeoutError):
            ename, text = "CellTimeoutError", f"this cell ran for more than {self.timeout} s and was stopped"
        else:
            ename, text = "DeadKernelError", ("the kernel died while running this cell (os._exit, a crash or "
                                              "running out of memory); grading restarted it and went on")
        cell.outputs.append(NotebookNode(output_type="error", ename=ename, evalue=text,
                                         traceback=[f"{ename}: {text}"]))


class CourseClearHiddenTests(ClearHiddenTests):
    """Feedback keeps a hidden test's points and pass/fail, not its code."""

    enforce_metadata = Bool(False).tag(config=True)


def use_course_executor(c) -> None:
    """Configure nbgrader (``c`` is the config of ``nbgrader_config.py``) to grade with :class:`CourseExecute`."""
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import GetGrades

    defaults = Autograde.class_traits()["autograde_preprocessors"].default()
    c.Autograde.autograde_preprocessors = [CourseExecute if p is Execute else p for p in defaults]
    c.GenerateFeedback.preprocessors = [GetGrades, CourseClearHiddenTests, CSSHTMLHeaderPreprocessor]
