"""Every included example says which file it is and how to run it.

A Python block on a lesson page is one include of a runnable file (the rule
tests/course/test_lessons.py enforces)::

    ```python
    --8<-- "l00_getting_started/examples/first_agent.py"
    ```

At build time this hook titles such a block with the file's path from the course folder and follows
it with the command that runs it, so that a page written by hand, and every new lesson, gets both
without repeating them in the Markdown.
"""

from __future__ import annotations

import re
from pathlib import Path

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<lang>python|py)[ \t]*$")
INCLUDE = re.compile(r'^[ \t]*--8<--[ \t]+"(?P<path>[^"]+)"[ \t]*$')


def course_root(docs_dir: Path) -> Path:
    """The course folder: the nearest folder above the docs that holds course.toml (else the docs' parent)."""
    for folder in docs_dir.resolve().parents:
        if (folder / "course.toml").is_file():
            return folder
    return docs_dir.resolve().parent


def titled_examples(markdown: str, docs_dir: Path, root: Path) -> str:
    """``markdown`` with each include-only Python block titled with its path and followed by its command."""
    lines = markdown.split("\n")
    out, i = [], 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        include = INCLUDE.match(lines[i + 1]) if opening and i + 2 < len(lines) else None
        closing = include and lines[i + 2].strip() == opening["fence"]
        if not closing:
            out.append(lines[i])
            i += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        path = (docs_dir / include["path"].split(":")[0]).resolve().relative_to(root.resolve()).as_posix()
        out += [f'{indent}{fence}{opening["lang"]} title="{path}"', lines[i + 1], lines[i + 2], "",
                f'{indent}{fence}console title="Run it from the course folder"',
                f"{indent}$ python {path}", f"{indent}{fence}"]
        i += 3
    return "\n".join(out)


def on_page_markdown(markdown: str, page, config, files):
    docs_dir = Path(config.docs_dir)
    return titled_examples(markdown, docs_dir, course_root(docs_dir))
