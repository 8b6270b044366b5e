"""The course in Hebrew, Persian and Estonian (issue 25): translations that keep the English page's code,
anchors and links; stale pages reported; every link of the built site resolving in every language; the
CLI speaking the learner's language with English as the fallback, and its JSON language-neutral.

The browser's side (the switch, a right-to-left page at desktop and phone width, search per language) is in
test_site_browser.py."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from course.dev.translations import (LANGUAGES, TRANSLATED_LESSONS, anchors, catalog_problems, companion_problems,
                                     compare, english_diff, extract_messages, mark_current, page_hash, sha256,
                                     public_test_docstrings, translations)
from course.exercises import load_course
from course.i18n import (LOCALE_DIR, RTL, _, catalog, exercise_hints, expected_text, from_environment,
                         page_language_path, set_language, translate)

ROOT = Path(__file__).resolve().parents[2]
LESSONS = ROOT / "lessons"
COURSE = load_course(ROOT)
FOUND = translations(LESSONS)
# What the issue asks to be translated in full, in every language.
REQUIRED = ["index.md", "instructors.md", "errata.md", "glossary.md", "l00_getting_started/index.md",
            "l01_agent_foundations/index.md"]


def run(*args: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")}
    return subprocess.run([sys.executable, "-m", "course", *args], capture_output=True, text=True, timeout=300,
                          cwd=cwd, env={**base, "COLUMNS": "200", "COURSE_ROOT": str(cwd), **(env or {})})


# --- the pages ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("page", REQUIRED)
def test_required_pages_are_translated(page, lang):
    path = LESSONS / page.replace(".md", f".{lang}.md")
    assert path.is_file(), f"{path.relative_to(ROOT)} is missing: the issue asks for {page} in every language"


@pytest.mark.parametrize("t", FOUND, ids=[str(t.path.relative_to(LESSONS)) for t in FOUND])
def test_translation_keeps_code_anchors_and_links(t):
    """Every fenced block byte for byte, every heading's anchor, every link target, no invented inline code."""
    assert not t.problems, f"{t.path.relative_to(ROOT)}:\n" + "\n".join(t.problems)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_translated_lessons_link_the_glossary(lang):
    for page in ("l00_getting_started/index", "l01_agent_foundations/index"):
        text = (LESSONS / f"{page}.{lang}.md").read_text(encoding="utf-8")
        assert "../glossary.md#" in text, f"{page}.{lang}.md never links a term to the glossary"
        for anchor in re.findall(r"\.\./glossary\.md#([\w-]+)", text):
            assert anchor in anchors((LESSONS / "glossary.md").read_text()), f"{page}.{lang}.md: #{anchor}"


def test_the_checks_catch_a_changed_block_a_lost_anchor_a_dropped_link_and_invented_code():
    english = ("# Title\n\nSee [the tool](tool.md#schema) and `course check`.\n\n## A section\n\n"
               "```console\n$ course check l00\n```\n")
    good = ("---\ntranslation:\n  source_sha256: x\n---\n# כותרת {#title}\n\nראו [הכלי](tool.md#schema) ו-`course check`"
            " ו[מילון](glossary.md#agent).\n\n## סעיף {#a-section}\n\n```console\n$ course check l00\n```\n")
    assert compare(english, good) == []
    problems = compare(english, good.replace("$ course check l00", "$ course check l01")
                       .replace(" {#a-section}", "").replace("(tool.md#schema)", "(tool.md)")
                       .replace("`course check`", "`course chek`"))
    assert any("block 1 differs" in p for p in problems)
    assert any("missing #a-section" in p for p in problems)
    assert any("links differ" in p and "tool.md#schema" in p for p in problems)
    assert any("`course chek`" in p for p in problems)
    assert any("source_sha256" in p for p in compare(english, good.split("---\n", 2)[2]))


def test_a_page_changed_in_english_after_its_translation_is_stale_and_git_says_what_changed(tmp_path):
    docs = tmp_path / "lessons"
    shutil.copytree(LESSONS / "l01_agent_foundations", docs / "l01_agent_foundations",
                    ignore=shutil.ignore_patterns("__pycache__", "examples", "*.svg"))
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "x", "--allow-empty"],
                   cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "."], cwd=tmp_path, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "pages"], cwd=tmp_path,
                   check=True)
    before = {t.path.name: t.stale for t in translations(docs)}
    assert before == {f"index.{lang}.md": False for lang in LANGUAGES}
    english = docs / "l01_agent_foundations" / "index.md"
    english.write_text(english.read_text().replace("By the end of this lesson", "At the end of this lesson", 1))
    after = translations(docs)
    assert all(t.stale and not t.problems for t in after)
    diff = english_diff(after[0], tmp_path)
    assert "-By the end of this lesson" in diff and "+At the end of this lesson" in diff
    mark_current(after[0].path)
    assert not translations(docs)[0].stale
    # what `course dev sync` writes between markers is written in the translations too: not a change to translate
    assert page_hash(b"a\n<!-- BEGIN x -->\none\n<!-- END x -->\nb") == page_hash(b"a\n<!-- BEGIN x -->\ntwo\n"
                                                                                   b"<!-- END x -->\nb")
    assert sha256(english) != page_hash(b"")


def test_course_dev_translations_reports_a_stale_page_and_fails_on_a_broken_one(course_copy):
    proc = run("dev", "translations", cwd=course_copy)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    page = course_copy / "lessons" / "errata.md"
    page.write_text(page.read_text() + "\nOne more sentence.\n")
    proc = run("dev", "translations", cwd=course_copy)
    assert proc.returncode == 0 and proc.stdout.count("stale, lessons/errata.md changed") == len(LANGUAGES)
    he = course_copy / "lessons" / "l00_getting_started" / "index.he.md"
    he.write_text(he.read_text().replace("course doctor", "course docter", 1))
    proc = run("dev", "translations", cwd=course_copy)
    assert proc.returncode == 1 and "index.he.md" in proc.stdout


def test_required_translations_are_current():
    """A stale page is shown with a notice on the site; the pages the issue names start current."""
    stale = [str(t.path.relative_to(ROOT)) for t in FOUND if t.stale]
    assert not stale, ("translated from an older English page (update them, then `course dev translations "
                       "--mark-current FILE`; `--diff` shows what changed): " + ", ".join(stale))


# --- the built site ---------------------------------------------------------------------------------


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        for key in ("href", "src"):
            if attrs.get(key) and not (tag == "link" and attrs.get("rel") in ("canonical",)):
                self.hrefs.append(attrs[key])


@pytest.fixture(scope="module")
def parsed_site(site_folder):
    pages = {}
    for path in site_folder.rglob("*.html"):
        parser = _Links()
        parser.feed(path.read_text(encoding="utf-8"))
        pages[path.relative_to(site_folder).as_posix()] = parser
    return pages


def test_every_link_and_anchor_resolves_in_every_language(site_folder, parsed_site):
    problems = []
    for rel, parser in parsed_site.items():
        if rel == "404.html":
            continue  # its links start at the server's root
        for href in parser.hrefs:
            url = urlparse(href)
            if url.scheme or href.startswith(("//", "mailto:", "javascript:", "data:")):
                continue
            target = (site_folder / rel).parent / unquote(url.path) if url.path else site_folder / rel
            target = target.resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                problems.append(f"{rel}: {href} does not exist")
                continue
            if url.fragment and target.suffix == ".html" and not url.fragment.startswith("__"):
                other = parsed_site.get(target.relative_to(site_folder.resolve()).as_posix())
                if other is not None and unquote(url.fragment) not in other.ids:
                    problems.append(f"{rel}: {href}: no #{url.fragment} there")
    langs = {rel.split("/")[0] for rel in parsed_site} & set(LANGUAGES)
    assert langs == set(LANGUAGES), f"built languages: {langs}"
    assert not problems, f"{len(problems)} broken links:\n" + "\n".join(problems[:40])


@pytest.mark.parametrize("lang", LANGUAGES)
def test_each_language_has_its_pages_direction_notice_and_search(site_folder, lang):
    home = (site_folder / lang / "index.html").read_text(encoding="utf-8")
    assert f'<html lang="{lang}"' in home
    assert f'dir="{"rtl" if lang in RTL else "ltr"}"' in home
    translated = (site_folder / lang / "l00_getting_started" / "index.html").read_text(encoding="utf-8")
    fallback = (site_folder / lang / "l02_slms_and_gguf" / "index.html").read_text(encoding="utf-8")
    assert "i18n-untranslated" not in translated and "i18n-untranslated" in fallback
    if lang in RTL:
        assert 'class="i18n-fallback" dir="ltr"' in fallback  # English text reads left to right in an RTL site
    index = json.loads((site_folder / lang / "search" / "search_index.json").read_text(encoding="utf-8"))
    locations = {doc["location"].split("#")[0] for doc in index["docs"]}
    assert "l00_getting_started/index.html" in locations
    root = json.loads((site_folder / "search" / "search_index.json").read_text(encoding="utf-8"))
    assert not any(doc["location"].startswith(f"{lang}/") for doc in root["docs"]), "the English index has them"
    title = re.search(r"<h1[^>]*>(.*?)</h1>", translated, re.S).group(1)
    assert any(doc["title"] and doc["title"] in title for doc in index["docs"]
               if doc["location"] == "l00_getting_started/index.html")


def test_english_pages_have_no_notice(site_folder):
    assert "i18n-notice" not in (site_folder / "l02_slms_and_gguf" / "index.html").read_text()


# --- course.LANG.toml and the CLI's catalogs ----------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_companion_translates_every_text_and_keeps_the_hints_in_step(lang):
    path = ROOT / f"course.{lang}.toml"
    assert path.is_file()
    problems, stale = companion_problems(path, COURSE)
    assert not problems, "\n".join(problems)
    assert not stale, f"stale in {path.name} (course.toml changed since): {', '.join(stale)}"
    for ex in COURSE.exercises_in_order():
        assert exercise_hints(ROOT, ex, lang) != tuple(ex.hints) or not ex.hints, f"{ex.id} has no {lang} hints"
    for short in TRANSLATED_LESSONS:  # what each public test checks, in the lessons translated in full
        for name, doc in public_test_docstrings(COURSE, COURSE.lesson(short)).items():
            assert expected_text(ROOT, short, name, doc, lang) != doc, f"{short}.{name} has no current {lang} text"


def test_an_outdated_translation_of_what_a_test_checks_is_not_shown(tmp_path):
    from course.i18n import source_hash
    english = "With no argument the tool answers in UTC (+00:00)."
    (tmp_path / "course.he.toml").write_text(
        '[test."l00.test_x"]\nexpected = "ללא ארגומנט הכלי עונה ב-UTC (+00:00)."\n'
        f'source_sha256 = "{source_hash(english)}"\n', encoding="utf-8")
    assert expected_text(tmp_path, "l00", "test_x", english, "he").startswith("ללא")
    changed = "With no argument the tool answers in UTC (+00:00), to the second."
    assert expected_text(tmp_path, "l00", "test_x", changed, "he") == changed  # English until it is updated
    assert expected_text(tmp_path, "l00", "test_y", english, "he") == english


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalog_translates_every_message_and_keeps_placeholders_and_markup(lang):
    path = LOCALE_DIR / lang / "LC_MESSAGES" / "course.po"
    problems, done, total = catalog_problems(path, ROOT / "course")
    assert not problems, "\n".join(problems)
    assert done == total, f"{path.name} ({lang}) translates {done} of the code's {total} messages: " \
                          f"`course dev translations --update-catalogs`, then translate the new ones"


def test_the_catalogs_know_every_message_the_code_marks():
    messages = {m.id for m in extract_messages(ROOT / "course") if m.id}
    assert {"hint {n}/{total}", "expected: {what}", "read: {where}", "package {name}"} <= messages
    for lang in LANGUAGES:
        assert set(catalog(lang)) <= messages, f"{lang}: translations of messages the code no longer has"


def test_the_language_comes_from_lang_or_the_locale_variables_as_gettext_reads_them():
    assert from_environment({}) == "en"
    assert from_environment({"LANG": "he_IL.UTF-8"}) == "he"
    assert from_environment({"LANG": "fa_IR"}) == "fa"
    assert from_environment({"LC_ALL": "et_EE.UTF-8", "LANG": "he_IL.UTF-8"}) == "et"
    assert from_environment({"LANGUAGE": "de:fa:he", "LANG": "de_DE.UTF-8"}) == "fa"
    assert from_environment({"LANGUAGE": "he", "LC_ALL": "C"}) == "en"  # the C locale turns translation off
    assert from_environment({"LANG": "de_DE.UTF-8"}) == "en"  # a language the course lacks: English
    try:
        set_language("he")
        assert _("hint {n}/{total}", n=1, total=3) != "hint 1/3" and "1/3" in _("hint {n}/{total}", n=1, total=3)
        assert _("a sentence nobody translated") == "a sentence nobody translated"
        assert translate("points", "en") == "points"
        assert page_language_path("lessons/l00_getting_started/index.md#the-agent-loop") == \
            "lessons/l00_getting_started/index.he.md#the-agent-loop"
        assert page_language_path("lessons/l05_hybrid_routing/index.md#x") == "lessons/l05_hybrid_routing/index.md#x"
    finally:
        set_language(None)


# --- the CLI ----------------------------------------------------------------------------------------------


def test_hint_speaks_hebrew_with_lang_and_the_locale_and_english_without(course_copy):
    ex = COURSE.exercises_in_order()[0]
    he_hint = exercise_hints(ROOT, ex, "he")[0]
    by_option = run("hint", ex.id, "--lang", "he", cwd=course_copy)
    assert by_option.returncode == 0, by_option.stderr
    assert he_hint in by_option.stdout and ex.hints[0] not in by_option.stdout
    assert f"index.he.md#{ex.section}" in by_option.stdout  # read: the Hebrew page, at the same anchor
    by_locale = run("hint", ex.id, cwd=course_copy, env={"LANG": "he_IL.UTF-8"})
    assert exercise_hints(ROOT, ex, "he")[1] in by_locale.stdout  # the next hint, in Hebrew from the locale
    english = run("--lang", "en", "hint", ex.id, cwd=course_copy, env={"LANG": "he_IL.UTF-8"})
    assert ex.hints[2] in english.stdout and "index.md#" in english.stdout
    wrong = run("hint", "--lang", "klingon", cwd=course_copy)
    assert wrong.returncode == 2 and "he (עברית)" in wrong.stderr


def test_check_feedback_is_in_hebrew_and_its_json_is_language_neutral(course_copy):
    args = ("check", "l00", "--exercise", "l00.1", "--public-only")
    english = run(*args, cwd=course_copy)
    hebrew = run(*args, "--lang", "he", cwd=course_copy)
    assert english.returncode == hebrew.returncode
    assert "expected: " in english.stdout and "expected: " not in hebrew.stdout
    assert _catalog_line("expected: {what}", "he") in hebrew.stdout
    assert "test_time_tool_returns_iso_time_in_zone" in hebrew.stdout  # test names are never translated
    docs = public_test_docstrings(COURSE, COURSE.lesson("l00"))
    said = expected_text(ROOT, "l00", "test_time_tool_default_is_utc", docs["test_time_tool_default_is_utc"], "he")
    assert said[:30] in hebrew.stdout and docs["test_time_tool_default_is_utc"][:30] in english.stdout
    as_json = [json.loads(run(*args, "--json", *extra, cwd=course_copy).stdout) for extra in ((), ("--lang", "he"))]
    for report in as_json:
        report.pop("seconds", None)
        for test in report.get("tests", []):
            test.pop("seconds", None)
            test.pop("duration", None)
    assert as_json[0] == as_json[1]


def _catalog_line(message: str, lang: str) -> str:
    return catalog(lang)[message].split("{")[0]


def test_lessons_and_doctor_speak_persian(course_copy):
    lessons = run("lessons", "--lang", "fa", cwd=course_copy)
    assert lessons.returncode == 0
    from course.i18n import exercise_title, lesson_text
    first = COURSE.lessons[0]
    assert lesson_text(ROOT, first, "title", "fa")[:20] in lessons.stdout
    assert exercise_title(ROOT, first.exercises[0], "fa")[:15] in lessons.stdout
    doctor = run("doctor", "--lang", "fa", cwd=course_copy)
    assert translate("CPU threads", "fa") in doctor.stdout
    neutral = json.loads(run("doctor", "--json", "--lang", "fa", cwd=course_copy).stdout)
    assert {c["check"] for c in neutral} >= {"python", "CPU threads"}
    assert all(set(c) == {"check", "ok", "detail", "fix", "required"} for c in neutral)


def test_no_message_is_marked_inside_an_f_string():
    """Babel's extractor does not look inside f-strings: a message marked there would never reach a catalog."""
    inside = re.compile(r"""f(["']).*\{\s*(_|N_|translate)\(""")
    found = [f"{path.relative_to(ROOT)}:{n}" for path in (ROOT / "course").rglob("*.py")
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if inside.search(line)]
    assert not found, "mark the message outside the f-string: " + ", ".join(found)
