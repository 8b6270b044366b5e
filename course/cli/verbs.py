"""The verb groups of ``course``: one table that ``course --help`` prints from and the tests check.

Every top-level command belongs to exactly one group (``tests`` fail on a
command in none or in two), so a new verb has to say who it is for.
"""

from __future__ import annotations

import click

VERB_GROUPS: dict[str, tuple[str, ...]] = {
    "Learners": ("lessons", "watch", "check", "hint", "solution", "reset", "progress", "capstone"),
    "The course's tools": ("doctor", "demo", "models", "inspect", "claims", "bench", "serve", "deploy", "foundry",
                            "vllm", "redteam", "redact", "eval"),
    "Instructors": ("exercises", "grade", "nbgrader"),
    "Contributors": ("dev",),
}


START_HERE = "New here? Run `course doctor`, then `course demo`, then `course lessons` and `course watch`."


def describe(command: click.Command) -> str:
    """A command's first sentence, whole: the help wraps it rather than cutting it with '...'."""
    return command.get_short_help_str(limit=1000)


class GroupedCommands(click.Group):
    """A click group whose help lists the commands by :data:`VERB_GROUPS`, in the table's order, each with its
    whole first sentence (wrapped, never cut), and ends with where a new learner starts."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        for title, names in VERB_GROUPS.items():
            rows = [(name, describe(self.commands[name])) for name in names if name in self.commands]
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)
        others = sorted(set(self.commands) - {n for names in VERB_GROUPS.values() for n in names})
        if others:
            with formatter.section("Other"):
                formatter.write_dl([(name, describe(self.commands[name])) for name in others])

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_paragraph()
        formatter.write_text(START_HERE)


def find_command(group: click.Group, words: list[str]) -> click.Command | None:
    """The command that ``course WORD WORD ...`` names, or None."""
    command: click.Command = group
    for word in words:
        if not isinstance(command, click.Group) or word not in command.commands:
            return None
        command = command.commands[word]
    return command


def bench_modes() -> tuple[str, ...]:
    """The subcommands of ``course bench``."""
    from .main import cli

    return tuple(cli.commands["bench"].commands)
