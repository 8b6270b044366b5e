"""The verb groups of ``course``: one table that ``course --help`` prints from and the tests check.

Every top-level command belongs to exactly one group (``tests`` fail on a
command in none or in two), so a new verb has to say who it is for.
"""

from __future__ import annotations

import click

VERB_GROUPS: dict[str, tuple[str, ...]] = {
    "Learners": ("lessons", "check", "hint", "solution", "reset", "progress"),
    "The course's tools": ("doctor", "demo", "models", "inspect", "claims", "bench", "serve", "deploy", "foundry"),
    "Instructors": ("exercises", "grade", "nbgrader"),
    "Contributors": ("dev",),
}


class GroupedCommands(click.Group):
    """A click group whose help lists the commands by :data:`VERB_GROUPS`, in the table's order."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        width = (formatter.width or 80) - 6 - max(map(len, self.commands), default=0)  # as click's own help
        for title, names in VERB_GROUPS.items():
            rows = [(name, self.commands[name].get_short_help_str(width)) for name in names if name in self.commands]
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)
        others = sorted(set(self.commands) - {n for names in VERB_GROUPS.values() for n in names})
        if others:
            with formatter.section("Other"):
                formatter.write_dl([(name, self.commands[name].get_short_help_str(width)) for name in others])


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
