"""The site's build hooks (site/hooks/): pinned offline assets and titled examples."""

from __future__ import annotations

import importlib.util
import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from course.net import free_port
from extras import require_extra

ROOT = Path(__file__).resolve().parents[2]
HOOKS = ROOT / "site" / "hooks"


def load_hook(name: str):
    require_extra("site")
    spec = importlib.util.spec_from_file_location(f"site_hook_{name}", HOOKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_an_included_example_is_titled_and_followed_by_its_command():
    examples = load_hook("examples")
    page = "\n".join([
        "Text.", "", "```python", '--8<-- "l00_getting_started/examples/first_agent.py"', "```", "",
        "!!! note", "    ```python", '    --8<-- "l03_quantization/examples/one_block.py"', "    ```", "",
        "```python", "print('not an include')", "```"])
    out = examples.titled_examples(page, ROOT / "lessons", ROOT).split("\n")
    assert out[2] == '```python title="lessons/l00_getting_started/examples/first_agent.py"'
    assert out[5:9] == ["", '```console title="Run it from the course folder"',
                        "$ python lessons/l00_getting_started/examples/first_agent.py", "```"]
    assert '    ```python title="lessons/l03_quantization/examples/one_block.py"' in out
    assert "    $ python lessons/l03_quantization/examples/one_block.py" in out
    assert out[-3:] == ["```python", "print('not an include')", "```"]  # not an include: left alone
    assert examples.course_root(ROOT / "lessons") == ROOT


def _tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_an_asset_is_fetched_once_checked_and_kept(tmp_path):
    hook = load_hook("offline_assets")
    data = _tarball({"package/dist/tool.min.js": b"var tool = 1;"})
    registry = tmp_path / "registry"
    (registry / "tool" / "-").mkdir(parents=True)
    (registry / "tool" / "-" / "tool-1.0.0.tgz").write_bytes(data)
    asset = hook.NpmAsset("tool", "1.0.0", hook.integrity_of(data), "package/dist/tool.min.js", "assets/tool.js")
    cache = tmp_path / "cache"
    got = hook.fetch(asset, cache, registry.as_uri())
    assert got.read_bytes() == b"var tool = 1;" and got.is_relative_to(cache)
    (registry / "tool" / "-" / "tool-1.0.0.tgz").unlink()  # the registry is gone: the cache serves
    assert hook.fetch(asset, cache, registry.as_uri()) == got

    wrong = hook.NpmAsset("tool", "1.0.0", hook.integrity_of(b"other"), asset.member, asset.dest)
    got.unlink()
    with pytest.raises(hook.AssetError, match="is not tool@1.0.0 as the npm registry published it.*Delete it"):
        hook.fetch(wrong, cache, registry.as_uri())


def test_the_pinned_assets_say_what_to_do_when_the_registry_cannot_be_reached(tmp_path):
    hook = load_hook("offline_assets")
    unreachable = f"http://127.0.0.1:{free_port()}"
    for asset in hook.ASSETS:
        with pytest.raises(hook.AssetError) as caught:
            hook.fetch(asset, tmp_path, unreachable)
        message = str(caught.value)
        assert f"npm pack {asset.spec} --pack-destination {tmp_path}" in message and "could not be fetched" in message


def test_the_build_stops_with_that_message_instead_of_a_site_without_diagrams(tmp_path):
    require_extra("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "COURSE_CACHE": str(tmp_path / "empty-cache"),
           "npm_config_registry": f"http://127.0.0.1:{free_port()}"}
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-f",
                           str(ROOT / "site" / "mkdocs.yml"), "-d", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode != 0
    assert "npm pack mermaid@" in proc.stderr and "to read offline" in proc.stderr
    assert not (tmp_path / "site" / "index.html").exists()


def test_a_stale_translation_and_an_untranslated_page_carry_their_notices_and_search_splits(tmp_path):
    """site/hooks/translations.py on a two-page site: the stale and untranslated notices, the English page's
    link from a stale one, and one search index per language."""
    require_extra("site")
    import json

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# Home\n\nThe English home page.\n")
    (docs / "index.he.md").write_text("---\ntranslation:\n  source_sha256: 0000\n---\n# בית {#home}\n\nדף הבית.\n")
    (docs / "page.md").write_text("# Page\n\nOnly in English, with `code`.\n")
    (docs / "contributing.md").write_text("# Contributing\n\n## Translations\n\nHow.\n")
    (tmp_path / "mkdocs.yml").write_text(f"""site_name: t
docs_dir: docs
site_dir: out
use_directory_urls: false
theme: {{name: material, language: en, font: false}}
plugins:
  - search
  - i18n:
      docs_structure: suffix
      fallback_to_default: true
      reconfigure_search: false
      languages:
        - {{locale: en, default: true, name: English, build: true}}
        - {{locale: he, name: עברית, build: true}}
hooks:
  - {HOOKS / "translations.py"}
""")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(tmp_path / "mkdocs.yml")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = tmp_path / "out"
    stale = (out / "he" / "index.html").read_text()
    assert "i18n-stale" in stale and 'href="../index.html"' in stale  # the English page, from he/
    assert "i18n-untranslated" not in stale
    fallback = (out / "he" / "page.html").read_text()
    assert "i18n-untranslated" in fallback and 'class="i18n-fallback" dir="ltr"' in fallback
    assert 'href="contributing.html#translations"' in fallback
    assert "i18n-notice" not in (out / "page.html").read_text()
    english = {d["location"] for d in json.loads((out / "search" / "search_index.json").read_text())["docs"]}
    hebrew = {d["location"] for d in json.loads((out / "he" / "search" / "search_index.json").read_text())["docs"]}
    assert "page.html" in english and "page.html" in hebrew and not any(x.startswith("he/") for x in english)
    assert '"base": "../he/"' in fallback  # he/page.html's searches read he/search/
    assert (out / "he" / "search" / "search_index.js").is_file() is False  # no offline plugin here: no script
