"""The site's translations: which pages are translated, which are stale, and what a translation must keep.

A translation lives beside its English page with the language's suffix
(``lessons/l00_getting_started/index.he.md`` beside ``index.md``), the layout of
mkdocs-static-i18n's ``suffix`` structure. Its front matter records the SHA-256
of the English page it was translated from::

    ---
    translation:
      source_sha256: 3f5c...
    ---

When the English page changes, its hash no longer matches: the translation is
*stale* (``course dev translations`` lists it, the site shows a notice on it,
and ``--diff`` prints what changed in English since). What a translation keeps
from its English page, checked here and by the test suite:

- every fenced block (code, commands, output, snippet includes) byte for byte and
  in the same order; only a mermaid diagram's labels may be translated;
- every heading's anchor, written as ``{#anchor}`` after a translated heading, so
  that links, ``course hint``'s ``read:`` lines and the other languages agree;
- every link target (glossary links may be added);
- inline code only from the English page (a translation never invents code).
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..i18n import DEFAULT, LANGUAGES as ALL_LANGUAGES, RTL  # noqa: F401 - RTL for the site's hook

# The languages a page may be translated into: every language of the course but English.
LANGUAGES: dict[str, str] = {code: name for code, name in ALL_LANGUAGES.items() if code != DEFAULT}
GLOSSARY = "glossary.md"

_FRONT = re.compile(r"\A---\n(.*?\n)---\n", re.S)
_FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")
_LINK = re.compile(r"\]\((?P<target><[^>]*>|[^)\s]+)(?:\s+\"[^\"]*\")?\)")
_REF_LINK = re.compile(r"^\s*\[[^\]]+\]:\s*(\S+)", re.M)
_INLINE_CODE = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)")


_GENERATED = re.compile(r"(<!-- BEGIN [^\n]*-->\n).*?(<!-- END [^\n]*-->)", re.S)


def page_hash(data: bytes) -> str:
    """The SHA-256 a translation records of its English page: of the page without what `course dev sync`
    writes between BEGIN and END markers (it writes those parts of the translations too, so a change there
    does not make them stale)."""
    text = _GENERATED.sub(lambda m: m.group(1) + m.group(2), data.decode("utf-8"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256(path: Path) -> str:
    return page_hash(path.read_bytes())


def split_front_matter(text: str) -> tuple[dict, str]:
    """The YAML front matter (or {}) and the Markdown after it."""
    match = _FRONT.match(text)
    if not match:
        return {}, text
    meta = yaml.safe_load(match.group(1)) or {}
    return (meta if isinstance(meta, dict) else {}), text[match.end():]


@dataclass
class Fence:
    info: str  # what follows the opening fence: the language and options
    body: str  # the lines inside, dedented by the opening fence's indent

    def kind(self) -> str:
        return self.info.strip().split()[0].lstrip(".{") if self.info.strip() else ""

    def show(self) -> str:
        first = self.body.strip().splitlines()[0] if self.body.strip() else ""
        return f"```{self.info.strip()} ({first[:60]!r})"


def parse(text: str) -> tuple[list[Fence], list[str]]:
    """The fenced blocks and snippet lines of a page, and its prose lines (fences removed)."""
    fences: list[Fence] = []
    prose: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        opened = _FENCE_OPEN.match(line)
        if not opened:
            if line.strip().startswith("--8<--"):
                fences.append(Fence("--8<--", line.strip()))
            else:
                prose.append(line)
            i += 1
            continue
        indent, fence = opened["indent"], opened["fence"]
        body = []
        i += 1
        while i < len(lines):
            closing = lines[i].strip()
            if closing.startswith(fence[0] * len(fence)) and set(closing) == {fence[0]}:
                break
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i].lstrip())
            i += 1
        fences.append(Fence(opened["info"], "\n".join(body)))
        i += 1
    return fences, prose


def anchors(text: str) -> list[str]:
    """The ids a page gives its headings and marked terms, as the site makes them (the toc extension, explicit
    ``{#ids}`` included), in the order of the page."""
    import markdown

    _, body = split_front_matter(text)
    _, prose = parse(body)
    html = markdown.markdown("\n".join(prose), extensions=["toc", "attr_list", "admonition", "tables", "md_in_html"])
    return re.findall(r' id="([^"]+)"', html)


def links(text: str) -> list[str]:
    _, prose = parse(split_front_matter(text)[1])
    joined = "\n".join(_INLINE_CODE.sub("", line) for line in prose)
    return [m["target"].strip("<>") for m in _LINK.finditer(joined)] + _REF_LINK.findall(joined)


def inline_code(text: str) -> list[str]:
    _, prose = parse(split_front_matter(text)[1])
    return [m.group(2).strip() for line in prose for m in _INLINE_CODE.finditer(line)]


def _is_glossary(target: str) -> bool:
    return target.split("#")[0].endswith(GLOSSARY)


def compare(english: str, translated: str) -> list[str]:
    """What a translation changed that it must keep from its English page (an empty list when nothing)."""
    problems: list[str] = []
    en_fences, _ = parse(split_front_matter(english)[1])
    tr_fences, _ = parse(split_front_matter(translated)[1])
    if len(en_fences) != len(tr_fences):
        problems.append(f"{len(tr_fences)} fenced blocks and snippet lines where the English page has "
                        f"{len(en_fences)}: keep every one, in the same order")
    for n, (en, tr) in enumerate(zip(en_fences, tr_fences), 1):
        if en.kind() == "mermaid" and tr.kind() == "mermaid":
            continue  # a diagram's labels may be translated; the browser tests draw it
        if (en.info.strip(), en.body) != (tr.info.strip(), tr.body):
            problems.append(f"block {n} differs from the English page's {en.show()}: copy it byte for byte")
    en_anchors, tr_anchors = anchors(english), anchors(translated)
    if en_anchors != tr_anchors:
        missing = [a for a in en_anchors if a not in tr_anchors]
        extra = [a for a in tr_anchors if a not in en_anchors]
        what = []
        if missing:
            what.append("missing " + ", ".join(f"#{a}" for a in missing))
        if extra:
            what.append("not in English " + ", ".join(f"#{a}" for a in extra))
        if not what:
            what.append("in another order")
        problems.append("heading anchors differ (" + "; ".join(what) + "): end each translated heading with "
                        "the English one's {#anchor}")
    en_links = Counter(t for t in links(english) if not _is_glossary(t))
    tr_links = Counter(t for t in links(translated) if not _is_glossary(t))
    if set(en_links) != set(tr_links):
        missing = sorted(set(en_links) - set(tr_links))
        extra = sorted(set(tr_links) - set(en_links))
        problems.append("links differ: " + "; ".join(
            part for part in (("missing " + ", ".join(missing)) if missing else "",
                              ("not in English " + ", ".join(extra)) if extra else "") if part))
    english_code = set(inline_code(english))
    invented = sorted({code for code in inline_code(translated) if code not in english_code})
    if invented:
        problems.append("inline code the English page does not have: " + ", ".join(f"`{c}`" for c in invented)
                        + " (keep code as the English page writes it; translate only the prose around it)")
    meta, _ = split_front_matter(translated)
    if not isinstance(meta.get("translation"), dict) or not meta["translation"].get("source_sha256"):
        problems.append("no `translation: source_sha256:` in its front matter "
                        "(`course dev translations --mark-current FILE` records it)")
    return problems


@dataclass
class Translation:
    path: Path  # the translated page
    english: Path  # its English page
    lang: str
    recorded: str  # the English page's hash when it was translated
    current: str  # the English page's hash now
    problems: list[str] = field(default_factory=list)

    @property
    def stale(self) -> bool:
        return self.recorded != self.current


def english_page(path: Path) -> tuple[Path, str] | None:
    """``index.he.md`` -> (``index.md``, ``he``); None for an English page."""
    parts = path.name.split(".")
    if len(parts) == 3 and parts[1] in LANGUAGES and parts[2] == "md":
        return path.with_name(parts[0] + ".md"), parts[1]
    return None


def translations(docs: Path) -> list[Translation]:
    """Every translated page under the docs folder, with its problems and whether it is stale."""
    found = []
    for path in sorted(docs.rglob("*.md")):
        pair = english_page(path)
        if pair is None:
            continue
        english, lang = pair
        text = path.read_text(encoding="utf-8")
        meta, _ = split_front_matter(text)
        recorded = str((meta.get("translation") or {}).get("source_sha256", "")) if isinstance(
            meta.get("translation"), dict) else ""
        if not english.is_file():
            found.append(Translation(path, english, lang, recorded, "",
                                     [f"no English page {english.name} beside it"]))
            continue
        found.append(Translation(path, english, lang, recorded, sha256(english),
                                 compare(english.read_text(encoding="utf-8"), text)))
    return found


def mark_current(path: Path) -> str:
    """Record the English page's current hash in a translation's front matter (after updating its text)."""
    pair = english_page(path)
    if pair is None:
        raise ValueError(f"{path} is not a translation: its name must be NAME.LANG.md with LANG one of "
                         f"{', '.join(LANGUAGES)}")
    english, _ = pair
    digest = sha256(english)
    text = path.read_text(encoding="utf-8")
    meta, body = split_front_matter(text)
    meta.setdefault("translation", {})
    if not isinstance(meta["translation"], dict):
        meta["translation"] = {}
    meta["translation"]["source_sha256"] = digest
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
    path.write_text(f"---\n{front}---\n{body}", encoding="utf-8")
    return digest


def english_diff(translation: Translation, root: Path) -> str:
    """What changed in the English page since the version the translation was made from, from git's history.

    Empty when the translation is current; a sentence saying so when git does not know that version."""
    if not translation.stale:
        return ""
    rel = translation.english.resolve().relative_to(root.resolve()).as_posix()
    try:
        commits = subprocess.run(["git", "log", "--format=%H", "--", rel], cwd=root, capture_output=True,
                                 text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        commits = []
    for commit in commits:
        blob = subprocess.run(["git", "show", f"{commit}:{rel}"], cwd=root, capture_output=True)
        if blob.returncode == 0 and page_hash(blob.stdout) == translation.recorded:
            return subprocess.run(["git", "diff", "--no-color", commit, "--", rel], cwd=root,
                                  capture_output=True, text=True).stdout
    return (f"(no commit of {rel} has the hash the translation records: compare the translation with the "
            f"English page by eye, or with `git log -p -- {rel}`)\n")


# --- course.LANG.toml: course.toml's texts in another language -------------------------------------

SITE_KEYS = {
    "site_name": "the site's name in the header",
    "site_description": "one sentence for search engines",
    "lesson": "a lesson in the navigation; keep {number} and {nav}",
    "language": "this language's name in English, as the notices write it ('Hebrew')",
    "untranslated": "the notice (Markdown) on a page shown in English, e.g. 'Not translated yet: the English "
                    "text follows. [Translate it]({contributing})'; keep {contributing}, the contributors' page",
    "stale": "the notice (Markdown) on a translation older than its English page, e.g. 'The English page has "
             "changed since: [read it]({english})'; keep {english}, the link to it",
    "nav_home": "Home", "nav_glossary": "Glossary", "nav_errata": "Errata",
    "nav_instructors": "For instructors", "nav_contributors": "For contributors",
    "admonition_note": "Note", "admonition_tip": "Tip", "admonition_warning": "Warning",
    "admonition_example": "Example",
}


def _toml_string(value: str) -> str:
    import json
    return json.dumps(value, ensure_ascii=False)


def companion_template(course, lang: str) -> str:
    """A new ``course.LANG.toml``: every text of course.toml to translate, its English beside it as a comment."""
    from ..i18n import LANGUAGES as ALL
    lines = [f"# course.{lang}.toml: course.toml's texts in {ALL.get(lang, lang)}, and the site's own words.",
             "# Translate each empty string (an empty one falls back to English), then",
             f"# `course dev translations --mark-current course.{lang}.toml` records the English each entry",
             "# translates, so that a later change to it is reported as stale.", "", "[site]"]
    for key, about in SITE_KEYS.items():
        lines += [f"# {about}", f"{key} = \"\""]
    for lesson in course.all_lessons:
        lines += ["", f"[lesson.{lesson.short}]", f"# en title: {lesson.title}", 'title = ""',
                  f"# en nav: {lesson.nav}", 'nav = ""', f"# en summary: {lesson.summary}", 'summary = ""',
                  'source_sha256 = ""']
        for ex in lesson.exercises:
            lines += ["", f'[exercise."{ex.id}"]', f"# en title: {ex.title}", 'title = ""', "# en hints:"]
            lines += [f"#   {n}. {hint}" for n, hint in enumerate(ex.hints, 1)]
            lines += ["hints = [", *(['  "",'] * len(ex.hints)), "]", 'source_sha256 = ""']
    lines += ["", "# The tests of the lessons translated in full: what each checks, the \"expected:\" line of course check."]
    return "\n".join(lines) + "\n" + tests_template(course)


# Lessons whose tests' docstrings (the "expected:" lines of `course check`) each companion translates:
# the lessons translated in full.
TRANSLATED_LESSONS = ("l00", "l01")


def public_test_docstrings(course, lesson) -> dict[str, str]:
    """A lesson's public tests and their docstrings, whitespace folded as the feedback shows them (hidden
    tests show no details, so theirs are never translated)."""
    import ast
    found = {}
    for path in sorted((course.autograder_dir / lesson.slug).glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_"):
                doc = ast.get_docstring(node)
                if doc:
                    found[node.name] = " ".join(doc.split())
    return found


def tests_template(course, shorts=TRANSLATED_LESSONS) -> str:
    """The ``[test."l00.NAME"]`` entries of a companion: each public test's docstring to translate."""
    lines = []
    for short in shorts:
        lesson = course.lesson(short)
        for name, doc in public_test_docstrings(course, lesson).items():
            lines += ["", f'[test."{short}.{name}"]', f"# en: {doc}", 'expected = ""', 'source_sha256 = ""']
    return "\n".join(lines) + "\n"


def mark_companion_current(path: Path, course) -> int:
    """Record, in every entry of a companion that has a translation, the hash of the English it translates."""
    import tomllib
    from ..i18n import exercise_english, lesson_english, source_hash
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    lessons = {lesson.short: lesson for lesson in course.all_lessons}
    exercises = {ex.id: ex for lesson in course.all_lessons for ex in lesson.exercises}
    hashes: dict[str, str] = {}
    for short, entry in data.get("lesson", {}).items():
        if short in lessons:
            hashes[f"lesson.{short}"] = source_hash(*lesson_english(lessons[short]))
    for ex_id, entry in data.get("exercise", {}).items():
        if ex_id in exercises:
            hashes[f'exercise."{ex_id}"'] = source_hash(*exercise_english(exercises[ex_id]))
    docs = _all_docstrings(course)
    for key, entry in data.get("test", {}).items():
        if key in docs and str(entry.get("expected", "")).strip():
            hashes[f'test."{key}"'] = source_hash(docs[key])
    out, section, marked = [], "", 0
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith("[") and not stripped.startswith("[["):
            section = stripped.strip("[]")
        if stripped.startswith("source_sha256") and section in hashes:
            line = f'source_sha256 = "{hashes[section]}"'
            marked += 1
        out.append(line)
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return marked


def _all_docstrings(course) -> dict[str, str]:
    return {f"{lesson.short}.{name}": doc for lesson in course.lessons
            for name, doc in public_test_docstrings(course, lesson).items()}


def companion_problems(path: Path, course) -> tuple[list[str], list[str]]:
    """A companion's problems (unknown entries, hints that do not match) and its stale entries."""
    import tomllib
    from ..i18n import exercise_english, lesson_english, source_hash
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        return [f"not valid TOML: {exc}"], []
    problems, stale = [], []
    lessons = {lesson.short: lesson for lesson in course.all_lessons}
    exercises = {ex.id: ex for lesson in course.all_lessons for ex in lesson.exercises}
    for key in data.get("site", {}):
        if key not in SITE_KEYS:
            problems.append(f"[site] {key}: not one of the site's words ({', '.join(SITE_KEYS)})")
    site = data.get("site", {})
    for key, needed in (("lesson", ("{number}", "{nav}")), ("untranslated", ("{contributing}",)), ("stale", ("{english}",))):
        value = site.get(key, "")
        if value and any(n not in value for n in needed):
            problems.append(f"[site] {key} must keep {' and '.join(needed)}")
    for short, entry in data.get("lesson", {}).items():
        if short not in lessons:
            problems.append(f"[lesson.{short}]: course.toml has no lesson {short}")
            continue
        translated = any(str(entry.get(k, "")).strip() for k in ("title", "nav", "summary"))
        if translated and entry.get("source_sha256") != source_hash(*lesson_english(lessons[short])):
            stale.append(f"[lesson.{short}]")
    for ex_id, entry in data.get("exercise", {}).items():
        if ex_id not in exercises:
            problems.append(f'[exercise."{ex_id}"]: course.toml has no exercise {ex_id}')
            continue
        hints = entry.get("hints", [])
        if hints and len(hints) != len(exercises[ex_id].hints):
            problems.append(f'[exercise."{ex_id}"]: {len(hints)} hints where course.toml has '
                            f"{len(exercises[ex_id].hints)}: translate each, in the same order")
        translated = str(entry.get("title", "")).strip() or any(str(h).strip() for h in hints)
        if translated and entry.get("source_sha256") != source_hash(*exercise_english(exercises[ex_id])):
            stale.append(f'[exercise."{ex_id}"]')
    docs = _all_docstrings(course) if data.get("test") else {}
    for key, entry in data.get("test", {}).items():
        if key not in docs:
            problems.append(f'[test."{key}"]: no public test with a docstring of that name (LESSON.test_name)')
        elif str(entry.get("expected", "")).strip() and entry.get("source_sha256") != source_hash(docs[key]):
            stale.append(f'[test."{key}"] (shown in English until updated)')
    return problems, stale


# --- the CLI's own messages: gettext catalogs ----------------------------------------------------------

KEYWORDS = {"_": None, "N_": None, "translate": (1,)}


def extract_messages(package: Path):
    """Every message the code marks for translation (``_("...")``, ``N_("...")``, ``translate("...", lang)``),
    as a Babel catalog: what ``pybabel extract -k N_ -k translate:1`` would write."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir

    template = Catalog(project="edge-agents-course", domain="course")
    for filename, lineno, message, comments, context in extract_from_dir(
            str(package), method_map=[("**.py", "python")], keywords=KEYWORDS, comment_tags=("TRANSLATORS:",),
            strip_comment_tags=True):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def update_catalogs(package: Path, languages=None) -> list[Path]:
    """Bring every language's ``course.po`` up to date with the code's messages (new ones empty, gone ones
    kept as obsolete entries for reference, a changed one marked fuzzy); returns the files written."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po

    from ..i18n import DOMAIN, LOCALE_DIR
    template = extract_messages(package)
    written = []
    for lang in languages or LANGUAGES:
        path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        if path.is_file():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=lang, domain=DOMAIN)
        else:
            catalog = Catalog(locale=lang, domain=DOMAIN, project="edge-agents-course")
        catalog.update(template)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(handle, catalog, width=120, sort_by_file=True, omit_header=False, ignore_obsolete=False,
                     include_previous=True)
        written.append(path)
    return written


def catalog_problems(path: Path, package: Path) -> tuple[list[str], int, int]:
    """A catalog's problems (a translation that loses a {placeholder} or a [markup] tag, or a message the code
    no longer has), and how many of the code's messages it translates, of how many."""
    from babel.messages.pofile import read_po

    template = extract_messages(package)
    wanted = {m.id for m in template if m.id}
    with path.open("rb") as handle:
        catalog = read_po(handle)
    problems, done = [], 0
    for message in catalog:
        if not message.id or not message.string:
            continue
        if message.id not in wanted:
            continue
        if message.fuzzy:
            problems.append(f"{message.id!r}: marked fuzzy (the English changed): check it and remove the mark")
            continue
        done += 1
        for pattern, what in ((r"\{[a-z_]*\}", "placeholder"), (r"\[/?[a-z ]*\]", "markup tag")):
            need = sorted(re.findall(pattern, message.id))
            have = sorted(re.findall(pattern, message.string))
            if need != have:
                problems.append(f"{message.id!r}: the translation's {what}s {have} differ from the English {need}")
    return problems, done, len(wanted)
