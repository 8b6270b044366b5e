"""The built site in a real browser, offline: served on 127.0.0.1 and opened from disk.

Headless Chromium (Debian's ``chromium``) driven by Playwright reads every page of the one build of the
session (tests/conftest.py's ``built_site``). Every request is routed through the test: one that would
leave 127.0.0.1 or the disk is refused and fails the test, so a page that needs the network cannot pass.
A screenshot of each page is written under pytest's temporary folder (``screenshots*``), as an artifact
to look at, never committed.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest

from course.i18n import LANGUAGES as ALL_LANGUAGES, RTL
from course.net import free_port, served
from extras import require_extra

ROOT = Path(__file__).resolve().parents[2]


def chromium_path() -> str | None:
    """Debian's chromium (``$COURSE_CHROMIUM`` names another build); Playwright's own download cannot work offline."""
    named = os.environ.get("COURSE_CHROMIUM")
    return named if named and Path(named).is_file() else shutil.which("chromium") or shutil.which("chromium-browser")


def require_chromium() -> str:
    path = chromium_path()
    if path is None:
        message = "needs Debian's chromium for the browser tests: sudo apt-get install -y chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message, allow_module_level=True)
    return path


require_extra("site", "site-tests")
CHROMIUM = require_chromium()

# Forces mermaid's closed shadow roots open, so that a test can see the SVG that material puts there.
OPEN_SHADOW_ROOTS = """
const attach = Element.prototype.attachShadow;
Element.prototype.attachShadow = function (init) { return attach.call(this, {...init, mode: "open"}); };
"""
# (term, a page that must be among its results)
SEARCHES = [("GGUF", "l02_slms_and_gguf/index.html"), ("nbgrader", "instructors.html"),
            ("quantization", "l03_quantization/index.html"), ("Foundry", "l06_foundry_local/index.html")]
PHONE = {"width": 390, "height": 844}
LANGUAGES = [code for code in ALL_LANGUAGES if code != "en"]
FALLBACK_SAMPLE = "l04_edge_runtimes/index.html"  # a page with diagrams, shown in English in every other language
DISK_SAMPLE = "l00_getting_started/index.html"  # a translated page with a diagram


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def http_site(site_folder):
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    with served([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory",
                 str(site_folder)], url, timeout=30):
        yield url


@pytest.fixture(params=["served", "disk"])
def site_url(request, site_folder):
    """The site's root URL, over HTTP on loopback or as a file:// URL of the build folder."""
    if request.param == "served":
        return request.getfixturevalue("http_site")
    return site_folder.as_uri() + "/"


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


def pages(site_folder: Path, mode: str = "served") -> list[str]:
    """Every built page of the English site, every translated page of the other languages and one page each of
    theirs shown in English (the others are the same English page again: the notice is the only difference);
    from disk, all but 404.html, which only a server shows (its links start at the site's root)."""
    found = sorted(p.relative_to(site_folder).as_posix() for p in site_folder.rglob("*.html"))
    chosen = []
    for rel in found:
        lang = rel.split("/")[0]
        if lang in LANGUAGES and "i18n-untranslated" in (site_folder / rel).read_text(encoding="utf-8"):
            if rel != f"{lang}/{FALLBACK_SAMPLE}":
                continue
        if mode == "disk" and lang in LANGUAGES and rel not in (f"{lang}/index.html", f"{lang}/{DISK_SAMPLE}"):
            continue  # from disk, each language's home and a translated lesson with a diagram: the rest read as served
        chosen.append(rel)
    return [rel for rel in chosen if mode == "served" or rel != "404.html"]


class Offline:
    """A browser context that refuses, and records, every request that leaves loopback or the disk."""

    def __init__(self, browser, **options):
        self.context = browser.new_context(**options)
        self.context.add_init_script(OPEN_SHADOW_ROOTS)
        self.left: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)

    def _route(self, route):
        url = urlparse(route.request.url)
        if url.scheme in ("file", "data", "blob", "about") or url.hostname == "127.0.0.1":
            route.continue_()
        else:
            self.left.append(route.request.url)
            route.abort()

    def page(self):
        page = self.context.new_page()
        page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        return page

    def close(self):
        self.context.close()


def test_every_page_loads_offline_and_draws_its_diagrams(browser, site_url, site_folder, screenshots, request):
    mode = request.node.callspec.params["site_url"]
    problems = []
    for rel in pages(site_folder, mode):
        html = (site_folder / rel).read_text()
        diagrams = html.count('<pre class="mermaid">')
        offline = Offline(browser, viewport={"width": 1280, "height": 900})
        page = offline.page()
        page.goto(site_url + rel, wait_until="load")
        if diagrams:
            try:
                page.wait_for_function(
                    "n => [...document.querySelectorAll('div.mermaid')].filter(d => d.shadowRoot"
                    " && d.shadowRoot.querySelector('svg')).length >= n", arg=diagrams, timeout=30_000)
            except Exception:  # noqa: BLE001 - reported below with what the page shows
                pass
        drawn = page.evaluate("[...document.querySelectorAll('div.mermaid')].map(d => d.shadowRoot ?"
                              " d.shadowRoot.querySelector('svg')?.textContent ?? null : null)")
        svgs = [text for text in drawn if text is not None]
        if len(svgs) != diagrams:
            problems.append(f"{rel}: {diagrams} mermaid blocks, {len(svgs)} drawn as SVG")
        problems += [f"{rel}: a diagram drew mermaid's error" for text in svgs if "Syntax error" in text]
        if mode == "served":  # one screenshot of each page is enough to look at; from disk it reads the same
            page.screenshot(path=str(screenshots / f"{mode}-{rel.replace('/', '-')}.png"), full_page=True)
        problems += [f"{rel}: {e}" for e in offline.errors]
        problems += [f"{rel}: requested {url}, which is not on this machine" for url in offline.left]
        offline.close()
    assert len(pages(site_folder)) >= 10
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("term,expected", SEARCHES, ids=[t for t, _ in SEARCHES])
def test_search_finds_the_page(browser, site_url, term, expected):
    offline = Offline(browser, viewport={"width": 1280, "height": 900})
    page = offline.page()
    page.goto(site_url + "index.html", wait_until="load")
    # typed key by key: material reads the query on keyup (or when its index is ready), not on input
    page.locator("input.md-search__input").press_sequentially(term)
    page.wait_for_selector(".md-search-result__item", timeout=30_000)
    links = page.eval_on_selector_all(".md-search-result__item > a", "as => as.map(a => a.href)")
    found = [n for n, link in enumerate(links) if urlparse(link).path.endswith(expected)]
    assert found, f"{term!r} found {links}"
    # a result opens the page itself, not a folder listing
    page.locator(".md-search-result__item > a").nth(found[0]).click()
    page.wait_for_load_state("load")
    assert urlparse(page.url).path.endswith(expected)
    assert page.locator("article h1").count() == 1
    assert not offline.errors and not offline.left, offline.errors + offline.left
    offline.close()


def test_previous_next_and_dark_toggle(browser, http_site, screenshots):
    offline = Offline(browser, viewport={"width": 1280, "height": 900}, color_scheme="light")
    page = offline.page()
    page.goto(http_site + "l01_agent_foundations/index.html")
    assert "Lesson 00" in page.inner_text(".md-footer__link--prev")
    assert "Lesson 02" in page.inner_text(".md-footer__link--next")
    assert page.get_attribute("body", "data-md-color-scheme") == "default"
    page.click("form[data-md-component=palette] label:visible")
    page.wait_for_function("document.body.getAttribute('data-md-color-scheme') === 'slate'")
    page.screenshot(path=str(screenshots / "dark-l01.png"))
    assert not offline.errors and not offline.left, offline.errors + offline.left
    offline.close()


def test_phone_width_reads_and_the_drawer_navigates(browser, http_site, screenshots):
    offline = Offline(browser, viewport=PHONE, is_mobile=True, has_touch=True)
    page = offline.page()
    page.goto(http_site + "l03_quantization/index.html")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow} px wider than a {PHONE['width']} px phone"
    page.screenshot(path=str(screenshots / "phone-l03.png"))
    page.click("label.md-header__button[for=__drawer]")
    link = page.locator("nav.md-nav--primary a.md-nav__link", has_text=re.compile("Ollama")).first
    link.wait_for(state="visible")
    # the drawer has slid fully in (it starts off the left edge of the screen)
    page.wait_for_function("document.querySelector('.md-sidebar--primary').getBoundingClientRect().left >= 0")
    page.screenshot(path=str(screenshots / "phone-drawer.png"))
    link.click()
    page.wait_for_load_state("load")
    assert page.url.endswith("l07_ollama/index.html")
    assert not offline.errors and not offline.left, offline.errors + offline.left
    offline.close()


# --- the site in other languages (issue 25) ------------------------------------------------------------


def _glossary_term(lang: str, anchor: str) -> str:
    """The language's own word for a glossary entry, from its glossary page (``**סוכן**{#agent}``)."""
    text = (ROOT / "lessons" / f"glossary.{lang}.md").read_text(encoding="utf-8")
    return re.search(r"\*\*([^*]+)\*\*\{#" + anchor + r"\}", text).group(1).split("(")[0].split()[0]


def test_the_language_switch_keeps_the_lesson_page(browser, site_url):
    offline = Offline(browser, viewport={"width": 1280, "height": 900})
    page = offline.page()
    page.goto(site_url + "l01_agent_foundations/index.html", wait_until="load")
    for lang in [*LANGUAGES, "en"]:
        page.hover(".md-header .md-select")
        page.locator(f".md-select__link[hreflang={lang}]").click()
        page.wait_for_load_state("load")
        expected = ("" if lang == "en" else f"{lang}/") + "l01_agent_foundations/index.html"
        assert page.url.endswith("/" + expected), f"switching to {lang} opened {page.url}"
        assert page.get_attribute("html", "lang") == lang
        assert page.evaluate("document.body.dir") == ("rtl" if lang in RTL else "ltr")
    assert not offline.errors and not offline.left, offline.errors + offline.left
    offline.close()


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("lang", sorted(RTL))
def test_an_rtl_page_reads_right_to_left_with_code_left_to_right(browser, http_site, screenshots, lang, viewport):
    phone = viewport == PHONE
    offline = Offline(browser, viewport=viewport, is_mobile=phone, has_touch=phone)
    page = offline.page()
    page.goto(http_site + f"{lang}/l00_getting_started/index.html")
    style = "(sel) => getComputedStyle(document.querySelector(sel)).direction"
    assert page.evaluate("document.body.dir") == "rtl"
    for selector in (".md-content article > p", ".md-content table", ".md-content .admonition", ".md-nav--primary"):
        assert page.evaluate(style, selector) == "rtl", selector
    for selector in (".md-content pre", ".md-content p > code"):
        assert page.evaluate(style, selector) == "ltr", selector
    # the code reads exactly as on the English page
    english = Offline(browser, viewport=viewport)
    english_page = english.page()
    english_page.goto(http_site + "l00_getting_started/index.html")
    code = "[...document.querySelectorAll('.md-content pre')].map(p => p.innerText)"
    assert page.evaluate(code) == english_page.evaluate(code)
    english.close()
    # the sidebar is on the right, the content to its left
    if not phone:
        nav = page.locator(".md-sidebar--primary").bounding_box()
        content = page.locator(".md-content").bounding_box()
        assert nav["x"] > content["x"], "the navigation is not on the right of a right-to-left page"
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{lang}: the page is {overflow} px wider than the window"
    page.screenshot(path=str(screenshots / f"rtl-{lang}-{'phone' if phone else 'desktop'}.png"), full_page=not phone)
    if phone:  # the drawer opens from the right and leads to a page of the same language
        page.click("label.md-header__button[for=__drawer]")
        page.wait_for_function("document.querySelector('.md-sidebar--primary').getBoundingClientRect().right"
                               " <= window.innerWidth + 1")
        link = page.locator("nav.md-nav--primary a.md-nav__link[href$='l01_agent_foundations/index.html']").first
        link.wait_for(state="visible")
        link.click()
        page.wait_for_load_state("load")
        assert page.url.endswith(f"/{lang}/l01_agent_foundations/index.html")
    assert not offline.errors and not offline.left, offline.errors + offline.left
    offline.close()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_search_in_a_language_finds_its_own_pages(browser, site_url, lang):
    term = _glossary_term(lang, "agent")
    offline = Offline(browser, viewport={"width": 1280, "height": 900})
    page = offline.page()
    page.goto(site_url + f"{lang}/index.html", wait_until="load")
    page.locator("input.md-search__input").press_sequentially(term)
    page.wait_for_selector(".md-search-result__item", timeout=30_000)
    links = page.eval_on_selector_all(".md-search-result__item > a", "as => as.map(a => a.href)")
    paths = [urlparse(link).path for link in links]
    assert any(p.endswith(f"/{lang}/l01_agent_foundations/index.html") for p in paths), f"{term!r}: {links}"
    assert all(f"/{lang}/" in p for p in paths), f"{term!r} found pages of another language: {links}"
    assert not offline.errors and not offline.left, offline.errors + offline.left
    offline.close()


def test_a_page_shown_in_english_says_so_in_the_readers_language(browser, http_site):
    from course.i18n import site_text
    offline = Offline(browser, viewport={"width": 1280, "height": 900})
    page = offline.page()
    for lang in LANGUAGES:
        page.goto(http_site + f"{lang}/l05_hybrid_routing/index.html")
        notice = page.locator(".i18n-untranslated")
        expected = site_text(ROOT, lang, "untranslated").split("[")[0].strip()
        assert expected and expected in notice.inner_text(), notice.inner_text()
        notice.locator("a").click()
        page.wait_for_load_state("load")
        assert page.url.endswith(f"/{lang}/contributing.html#translations")
    assert not offline.errors and not offline.left, offline.errors + offline.left
    offline.close()
