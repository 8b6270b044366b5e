"""The site in every language of the course: what mkdocs-static-i18n leaves to the course.

mkdocs-static-i18n builds each language into its own folder (``he/``, ``fa/``, ``et/``), a translated
page where there is one (``index.he.md``) and the English page where there is none, and
mkdocs-material lays Hebrew and Persian out right to left from the language. This hook adds:

- **notices**: a page shown in English says so in the reader's language (and is laid out left to right
  inside a right-to-left site); a translation older than its English page says that, with a link to it.
  The sentences are the companions' (``course.LANG.toml``, ``[site]``);
- **code stays left to right** in a right-to-left page: blocks, inline code and diagrams (a stylesheet);
- **the language switch keeps the page**: each language's entry links to the same page in that
  language, as a relative link, so it works from ``file://`` too (the plugin's links are absolute);
- **search per language**: each language gets its own index (``he/search/``), and its pages search it,
  instead of one index of every language at the site's root.
"""

from __future__ import annotations

import json
import posixpath
import re
from html import escape
from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File
from mkdocs.utils import get_relative_url

STYLESHEET = "assets/stylesheets/i18n.css"
CSS = """\
/* Code, commands and their output read left to right in a right-to-left page (site/hooks/translations.py). */
[dir=rtl] .md-typeset pre, [dir=rtl] .md-typeset .highlight, [dir=rtl] .md-typeset .highlighttable,
[dir=rtl] .md-typeset .mermaid, [dir=rtl] .md-typeset .tabbed-set pre { direction: ltr; text-align: left; }
[dir=rtl] .md-typeset :not(pre) > code { direction: ltr; unicode-bidi: isolate; }
.md-typeset .i18n-notice { font-size: .8rem; }
"""
NOTICE_DEFAULTS = {
    "untranslated": "This page is not translated yet: the English text follows. [Translate it]({contributing})",
    "stale": "The English page has changed since this translation: [read it]({english})",
}


def _i18n(config):
    return config.plugins.get("i18n")


def _current(config) -> str:
    plugin = _i18n(config)
    return getattr(plugin, "current_language", None) or "en"


def _default(config) -> str:
    plugin = _i18n(config)
    return getattr(plugin, "default_language", None) or "en"


def _root(config) -> Path:
    docs = Path(config.docs_dir).resolve()
    return next((p for p in docs.parents if (p / "course.toml").is_file()), docs.parent)


def _english_url(url: str, lang: str, default: str) -> str:
    """A page's address in the default language's build: ``he/l00/index.html`` -> ``l00/index.html``."""
    if url.endswith("/") or url == "":
        url += "index.html"
    if lang != default and url.startswith(f"{lang}/"):
        url = url[len(lang) + 1:]
    return url


def on_config(config):
    if STYLESHEET not in config.extra_css:
        config.extra_css.append(STYLESHEET)
    return config


@event_priority(-100)  # after mkdocs-static-i18n has sorted the files by language (it needs a source path)
def on_files(files, config):
    if files.get_file_from_path(STYLESHEET) is None:
        files.append(File.generated(config, STYLESHEET, content=CSS))
    return files


def _notice(config, page, lang: str, which: str, **links: str) -> str:
    import markdown

    from course.i18n import RTL, site_text

    text = site_text(_root(config), lang, which, NOTICE_DEFAULTS[which])
    try:
        text = text.format(**links)
    except (KeyError, IndexError, ValueError):
        text = NOTICE_DEFAULTS[which].format(**links)
    body = markdown.markdown(text)
    direction = "rtl" if lang in RTL else "ltr"
    return (f'<div class="admonition info i18n-notice i18n-{which}" dir="{direction}" lang="{escape(lang)}">'
            f"{body}</div>\n")


def on_page_content(html, page, config, files):
    """The notice on a page shown in English, or on a translation older than its English page."""
    from course.dev.translations import english_page, sha256, split_front_matter
    from course.i18n import RTL

    lang, default = _current(config), _default(config)
    if lang == default:
        return html
    locale = getattr(page.file, "locale", lang)
    if locale != lang:  # the English page, shown because this one is not translated
        contributing = get_relative_url(f"{lang}/contributing.html", page.url or "index.html")
        notice = _notice(config, page, lang, "untranslated", contributing=contributing + "#translations")
        if lang in RTL:
            html = f'<div class="i18n-fallback" dir="ltr" lang="{default}">\n{html}\n</div>'
        return notice + html
    source = Path(page.file.abs_src_path)
    pair = english_page(source)
    if pair and pair[0].is_file():
        meta, _ = split_front_matter(source.read_text(encoding="utf-8"))
        recorded = (meta.get("translation") or {}).get("source_sha256") if isinstance(meta.get("translation"), dict) else None
        if recorded != sha256(pair[0]):
            english = get_relative_url(_english_url(page.url, lang, default), page.url or "index.html")
            return _notice(config, page, lang, "stale", english=english) + html
    return html


@event_priority(-10)  # after mkdocs-static-i18n has set this page's alternates
def on_page_context(context, page, config, nav):
    """Each entry of the language switch links to this page in that language."""
    alternates = config.extra.get("alternate") or []
    lang, default = _current(config), _default(config)
    english = _english_url(page.url, lang, default)
    for alternate in alternates:
        code = alternate.get("lang")
        if code:
            alternate["link"] = english if code == default else f"{code}/{english}"
    return context


_SWITCH_LINK = re.compile(r'href="[^"]*"( hreflang="([^"]+)")')


def on_post_template(output_content, template_name, config):
    """A page of no language's content (404.html): the switch leads to each language's home page."""
    if not template_name.endswith(".html"):
        return output_content
    default = _default(config)
    base = re.search(r'"base":\s*"([^"]*)"', output_content)
    root = (base.group(1).rstrip("/") + "/") if base else "/"
    output_content = _SWITCH_LINK.sub(
        lambda m: f'href="{root}{"" if m.group(2) == default else m.group(2) + "/"}index.html"{m.group(1)}',
        output_content)
    output_content = _HEAD_ALTERNATE.sub("", output_content)
    if template_name == "404.html" and _current(config) == default:
        _english_404[:] = [output_content]  # each language's build writes 404.html; the English one is kept
    return output_content


_english_404: list[str] = []


_BASE = re.compile(r'("base":\s*")([^"]*)(")')
_HEAD_ALTERNATE = re.compile(r'\s*<link rel="alternate" href="[^"]*" hreflang="[^"]*">')


def on_post_page(output, page, config):
    """A translated build's pages search their own language's index (``he/search/``).

    The head's ``<link rel="alternate" hreflang>`` tags go: material fetches a ``sitemap.xml`` beside each
    (to map a page between languages), which a site read from disk cannot do and which the course does not
    need, since the switch's own links already lead to the same page; each fetch would log an error."""
    output = _HEAD_ALTERNATE.sub("", output)
    lang, default = _current(config), _default(config)
    if lang == default:
        return output
    start = output.find('id="__config"')
    if start < 0:
        return output
    end = output.find("</script>", start)
    script = _BASE.sub(lambda m: m.group(1) + posixpath.join(m.group(2), lang) + "/" + m.group(3),
                       output[start:end], count=1)
    return output[:start] + script + output[end:]


@event_priority(-200)  # after mkdocs-static-i18n has gathered every language's entries and material's offline copy
def on_post_build(config):
    plugin = _i18n(config)
    if plugin is None or getattr(plugin, "building", False):
        return  # a language's own build inside the plugin's: split once, at the end
    site = Path(config.site_dir)
    if _english_404 and (site / "404.html").is_file():
        (site / "404.html").write_text(_english_404[0], encoding="utf-8")
    index = site / "search" / "search_index.json"
    if not index.is_file():
        return
    data = json.loads(index.read_text(encoding="utf-8"))
    languages = [lang for lang in getattr(plugin, "build_languages", []) if lang != _default(config)]
    split: dict[str, list] = {lang: [] for lang in languages}
    default_docs = []
    for doc in data.get("docs", []):
        lang = doc["location"].split("/", 1)[0]
        if lang in split:
            split[lang].append({**doc, "location": doc["location"][len(lang) + 1:]})
        else:
            default_docs.append(doc)
    for lang, docs in [(None, default_docs), *split.items()]:
        folder = site / "search" if lang is None else site / lang / "search"
        folder.mkdir(parents=True, exist_ok=True)
        text = json.dumps({**data, "docs": docs}, ensure_ascii=False, separators=(",", ":"))
        (folder / "search_index.json").write_text(text, encoding="utf-8")
        if "offline" in config.plugins or "material/offline" in config.plugins:
            (folder / "search_index.js").write_text(f"var __index = {text}", encoding="utf-8")
