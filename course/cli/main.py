"""``course``: the command line of the course.

Learner verbs: lessons, watch, check, hint, solution, reset, progress.
Course verbs: doctor, demo, models, bench. Instructor verbs: exercises build, grade,
nbgrader export.
Every verb a script would call has a ``--json`` form. Expected mistakes (an
unknown lesson, a missing model) print one clear line and exit 2, never a
traceback.
"""

from __future__ import annotations

import contextlib
import functools
import json
import sys

import click
from rich.console import Console

from ..exercises.meta import CourseError
from ..models import ModelError
from .verbs import GroupedCommands

console = Console()
err_console = Console(stderr=True)


def friendly_errors(func):
    """Turn the course's expected errors into one line on stderr and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from ..backends.types import BackendError
        from ..capstone.project import ProjectError
        from ..capstone.tasks import TaskFileError
        from ..grading.runner import GradingError

        try:
            return func(*args, **kwargs)
        except (CourseError, ModelError, GradingError, BackendError, ProjectError, TaskFileError) as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
            sys.exit(2)

    return wrapper


def spinner(text: str, quiet: bool = False):
    """A spinner on the terminal while something runs (``.update(text)`` changes it); with ``quiet``
    (``--json``) nothing at all, so standard output carries only the JSON."""
    return contextlib.nullcontext() if quiet else console.status(text, spinner="dots")


def print_json(data) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def _choose_language(ctx, param, value):
    if value is None:
        return
    from ..i18n import LanguageError, set_language

    try:
        set_language(value)
    except LanguageError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


LANG_HELP = ("the language to speak: en, he, fa or et (default: from LANGUAGE, LC_ALL, LC_MESSAGES or LANG; "
             "English for anything untranslated)")


def lang_option(func):
    """``--lang`` on a verb that talks to the learner (``course --lang he`` works for every verb)."""
    return click.option("--lang", callback=_choose_language, expose_value=False, is_eager=True, metavar="LANG",
                        help=LANG_HELP)(func)


@click.group(cls=GroupedCommands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="edge-agents-course")
@lang_option
def cli() -> None:
    """Edge Agents: build AI agents on small language models, offline, graded by pytest."""


def report_setup(tool: str, setup, error: type[Exception], *, force: bool, as_json: bool) -> None:
    """``course ... setup`` of a tool that lives in an environment of its own (vLLM, garak): run ``setup``
    under a spinner, a failure as a clean error, then the result as JSON or one line."""
    with spinner(f"setting up {tool}", as_json) as status:
        try:
            result = setup(force=force, progress=(lambda text: status.update(text)) if status else None)
        except error as exc:
            raise click.ClickException(str(exc)) from None
    if as_json:
        print_json(result.to_dict())
        return
    done = f"set up in {result.seconds:.0f} s" if result.made else "already set up (kept)"
    console.print(f"{tool} {result.version}: {done}, at {result.folder}", highlight=False)


def main() -> None:
    cli()


# Commands register themselves on import; importing here keeps `course --help` complete.
from . import (bench_cmds, bench_production, capstone_cmds, course_cmds, deploy_cmd, dev_cmds,  # noqa: E402,F401
               foundry_cmd, instructor, learner, model_cmds, production_cmds, redteam_cmd, serve_cmd, vllm_cmd,
               watch)
