"""The planned lessons have a place in the navigation, marked as planned, instead of a silent gap.

``course dev sync`` writes the ready lessons into ``nav`` (a planned one has no page to link to). This
hook puts each planned lesson of ``course.toml`` back in its place, after the ready lesson before it, as
"Lesson 04: Edge runtimes (planned)", a link to the home page's lessons table, which says what it will
teach. Previous/next links skip it: they go from page to page.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.structure.nav import Link, Page

HOME_LESSONS = "index.md#lessons"  # the home page's lessons table (written from course.toml)


def _course(config):
    from course.exercises import load_course

    docs = Path(config.docs_dir).resolve()
    root = next((p for p in docs.parents if (p / "course.toml").is_file()), docs.parent)
    return load_course(root)


def on_nav(nav, config, files):
    course = _course(config)
    home = files.get_file_from_path(HOME_LESSONS.split("#")[0])
    url = home.url + "#" + HOME_LESSONS.split("#")[1]
    place = {item.file.src_uri: n for n, item in enumerate(nav.items) if isinstance(item, Page)}
    after, inserted = None, 0
    for lesson in course.all_lessons:
        page = lesson.page.removeprefix("lessons/")
        if lesson.ready and page in place:
            after = place[page] + inserted
        elif not lesson.ready:
            at = (after if after is not None else 0) + 1
            nav.items.insert(at, Link(f"Lesson {lesson.short[1:]}: {lesson.nav} (planned)", url))
            after, inserted = at, inserted + 1
    return nav
