"""The learner's language: which one, the CLI's own sentences in it, and course.toml's texts in it.

Two kinds of text are translated, each where translators expect it:

- **What the CLI says** (``course check``'s feedback lines, ``course lessons``, ``course doctor``,
  ``course hint``'s frame) is marked in the code with :func:`_` and translated in gettext catalogs,
  ``course/locale/LANG/LC_MESSAGES/course.po``, read with Babel (no compiled ``.mo`` to keep in step).
  ``pybabel extract`` finds the messages; Poedit or any PO editor translates them.
- **What course.toml says** (lesson titles and summaries, exercise titles, hints) is translated in
  its per-language companion, ``course.LANG.toml`` beside it, which also holds the site's own words
  (the notices, the navigation's fixed entries). Each entry records the SHA-256 of the English text it
  was translated from, so a changed English hint shows up as stale (``course dev translations``).

The language is ``--lang`` when given, else the usual locale variables (``LANGUAGE``, ``LC_ALL``,
``LC_MESSAGES``, ``LANG``, in gettext's order); anything untranslated falls back to English. Output meant
for programs (``--json``) never goes through here.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .exercises.meta import CourseError

DEFAULT = "en"
# The course's languages, in the order of the site's language switch, each with its own name.
LANGUAGES: dict[str, str] = {"en": "English", "he": "עברית", "fa": "فارسی", "et": "Eesti"}
RTL = frozenset({"he", "fa"})
LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "course"

_chosen: str | None = None


class LanguageError(CourseError):
    """A language the course does not have (a CourseError: the CLI prints it as one line)."""


def normalise(value: str) -> str | None:
    """``he_IL.UTF-8`` -> ``he``; ``C``, ``POSIX`` and empty values -> None (no choice made)."""
    code = value.split(".")[0].split("@")[0].replace("-", "_").split("_")[0].strip().lower()
    if not code or code in {"c", "posix"}:
        return None
    return code


def from_environment(env: Mapping[str, str] | None = None) -> str:
    """The language the locale variables ask for, as gettext reads them; English when they ask for none
    the course has. ``LANGUAGE`` may list several (``fa:he``): the first the course has wins."""
    env = os.environ if env is None else env
    locale = next((env[name] for name in ("LC_ALL", "LC_MESSAGES", "LANG") if env.get(name)), "")
    if normalise(locale) is None and locale:
        return DEFAULT  # the C locale turns translation off, as gettext does (LANGUAGE is ignored then)
    for entry in env.get("LANGUAGE", "").split(":"):
        code = normalise(entry)
        if code in LANGUAGES:
            return code
    code = normalise(locale)
    return code if code in LANGUAGES else DEFAULT


def check_language(lang: str) -> str:
    code = normalise(lang) or ""
    if code not in LANGUAGES:
        raise LanguageError(f"the course has no language '{lang}': use one of "
                            + ", ".join(f"{c} ({name})" for c, name in LANGUAGES.items())
                            + " (lessons/contributing.md says how to add one)")
    return code


def set_language(lang: str | None) -> str:
    """Choose the language for this process (``--lang``); None goes back to the locale variables."""
    global _chosen
    _chosen = None if lang is None else check_language(lang)
    return language()


def language() -> str:
    return _chosen or from_environment()


@lru_cache(maxsize=None)
def catalog(lang: str) -> dict[str, str]:
    """The CLI's messages translated into ``lang`` (empty for English, or for a language without one)."""
    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if lang == DEFAULT or not path.is_file():
        return {}
    from babel.messages.pofile import read_po

    with path.open("rb") as handle:
        po = read_po(handle, locale=lang, domain=DOMAIN)
    return {m.id: m.string for m in po if m.id and isinstance(m.id, str) and m.string and not m.fuzzy}


def _(message: str, /, **values: object) -> str:
    """``message`` in the learner's language (English when it has no translation), with ``{name}``
    placeholders filled from ``values``."""
    return translate(message, language(), **values)


def N_(message: str) -> str:
    """Marks a message for translation where it is defined, to be translated where it is shown."""
    return message


def translate(message: str, lang: str, /, **values: object) -> str:
    """``message`` in a given language rather than the learner's (the site's pages are written in each)."""
    text = catalog(lang).get(message, message)
    try:
        return text.format(**values) if values else text
    except (KeyError, IndexError, ValueError):
        return message.format(**values)  # a broken translation never hides the message


# --- course.toml's texts ------------------------------------------------------------------------

def source_hash(*english: str | tuple[str, ...] | list[str]) -> str:
    """What an entry of a companion records: the SHA-256 of the English texts it translates."""
    flat: list[str] = []
    for part in english:
        flat.extend([part] if isinstance(part, str) else list(part))
    return hashlib.sha256("\x1f".join(flat).encode()).hexdigest()


@dataclass(frozen=True)
class Companion:
    """``course.LANG.toml``: lesson and exercise texts and the site's words in one language."""

    lang: str
    path: Path
    lessons: dict[str, dict] = field(default_factory=dict)  # "l00" -> {title, nav, summary, source_sha256}
    exercises: dict[str, dict] = field(default_factory=dict)  # "l00.1" -> {title, hints, source_sha256}
    site: dict = field(default_factory=dict)
    tests: dict[str, dict] = field(default_factory=dict)  # "l00.test_name" -> {expected, source_sha256}


def companion_path(root: Path, lang: str) -> Path:
    return root / f"course.{lang}.toml"


@lru_cache(maxsize=None)
def _read_companion(path: Path, mtime: float, lang: str) -> Companion:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CourseError(f"{path} is not valid TOML: {exc}. Fix it (or remove it: the course then speaks "
                          f"English)") from exc
    return Companion(lang, path, dict(data.get("lesson", {})), dict(data.get("exercise", {})),
                     dict(data.get("site", {})), dict(data.get("test", {})))


def companion(root: Path, lang: str | None = None) -> Companion:
    lang = lang or language()
    path = companion_path(root, lang)
    if lang == DEFAULT or not path.is_file():
        return Companion(lang, path)
    return _read_companion(path, path.stat().st_mtime, lang)


def lesson_english(lesson) -> tuple[str, str, str]:
    return lesson.title, lesson.nav, lesson.summary


def exercise_english(ex) -> tuple[str, tuple[str, ...]]:
    return ex.title, tuple(ex.hints)


def lesson_text(root: Path, lesson, key: str, lang: str | None = None) -> str:
    """A lesson's ``title``, ``nav`` or ``summary`` in the language, English when untranslated."""
    entry = companion(root, lang).lessons.get(lesson.short, {})
    value = entry.get(key)
    return value if isinstance(value, str) and value.strip() else getattr(lesson, key)


def exercise_title(root: Path, ex, lang: str | None = None) -> str:
    value = companion(root, lang).exercises.get(ex.id, {}).get("title")
    return value if isinstance(value, str) and value.strip() else ex.title


def exercise_hints(root: Path, ex, lang: str | None = None) -> tuple[str, ...]:
    """The hints in the language, one by one: an untranslated hint is the English one."""
    translated = companion(root, lang).exercises.get(ex.id, {}).get("hints") or []
    return tuple(translated[n] if n < len(translated) and str(translated[n]).strip() else hint
                 for n, hint in enumerate(ex.hints))


def expected_text(root: Path, lesson_short: str, test: str, english: str, lang: str | None = None) -> str:
    """What a test checks (its docstring, the "expected:" line of a check's feedback) in the language, when the
    translation was made from this very docstring; otherwise the English one, never an outdated translation."""
    english = " ".join(english.split())
    entry = companion(root, lang).tests.get(f"{lesson_short}.{test}", {})
    value = entry.get("expected")
    if isinstance(value, str) and value.strip() and entry.get("source_sha256") == source_hash(english):
        return value
    return english


def site_text(root: Path, lang: str, key: str, default: str = "") -> str:
    value = companion(root, lang).site.get(key)
    return value if isinstance(value, str) and value.strip() else default


def page_language_path(page: str, lang: str | None = None) -> str:
    """A lesson page in the language when it is translated (``index.he.md``), else the English page."""
    lang = lang or language()
    if lang == DEFAULT:
        return page
    base, _, anchor = page.partition("#")
    stem, dot, ext = base.rpartition(".")
    candidate = f"{stem}.{lang}.{ext}" if dot else base
    return (candidate if Path(candidate).is_file() or _root_has(candidate) else base) + (f"#{anchor}" if anchor else "")


def _root_has(relative: str) -> bool:
    from .exercises.meta import find_root
    try:
        return (find_root() / relative).is_file()
    except Exception:  # noqa: BLE001 - no course folder: the English page
        return False
