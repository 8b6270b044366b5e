"""Tools for the people who write the course: one registry of lessons (``course.toml``) and what follows from it.

- :mod:`course.dev.sync`: the site's navigation, the lessons table and README's lesson list, written from
  ``course.toml`` (``course dev sync``);
- :mod:`course.dev.check`: every consistency check of the course in seconds (``course dev check``);
- :mod:`course.dev.scaffold`: a new lesson, ready to fill in (``course dev new-lesson SLUG``).
"""
