"""A ladder of real GGUF files at several quantization levels, made by llama.cpp's own quantizer.

The shipped files are already quantized (SmolLM2 in Q4_1, Qwen2.5-Coder in
Q4_K_M), and no unquantized weights can be downloaded here. So the ladder
starts from the best weights available: llama.cpp dequantizes the shipped
file to F16 (the *baseline*: exactly the shipped weights, stored in 16 bits),
and every other level is quantized from that F16 file, as ``llama-quantize``
would do from an original F16 checkpoint. What the ladder measures is the
cost of each level relative to the shipped weights, not relative to the
weights the model was trained in.

Each level is built in a child process (``python -m course.quant.ladder``)
whose output is kept: llama.cpp reports how many tensors needed a *fallback*
type. K-quants work on rows of 256 weights, and the hidden sizes of these
small models (576, 896, 640) are not multiples of 256, so most of their
tensors fall back to a legacy type; the ladder records it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..child import run_python, tail
from ..formats import GGUFError, read_gguf
from ..models import cache_dir, get_model, model_path

# level -> llama.cpp ftype name (llama_cpp.LLAMA_FTYPE_MOSTLY_<name>)
LEVELS: dict[str, str] = {
    "F16": "F16", "Q8_0": "Q8_0", "Q6_K": "Q6_K", "Q5_K_M": "Q5_K_M", "Q5_K_S": "Q5_K_S", "Q5_1": "Q5_1",
    "Q5_0": "Q5_0", "Q4_K_M": "Q4_K_M", "Q4_K_S": "Q4_K_S", "Q4_1": "Q4_1", "Q4_0": "Q4_0",
    "Q3_K_M": "Q3_K_M", "Q2_K": "Q2_K",
}
DEFAULT_LEVELS = ["F16", "Q8_0", "Q5_1", "Q5_K_S", "Q4_K_M", "Q4_0", "Q2_K"]
BASELINE = "F16"


class LadderError(RuntimeError):
    """A level could not be built; the message carries llama.cpp's last words."""


@dataclass(frozen=True)
class Rung:
    level: str
    path: Path
    fallback_tensors: int  # tensors llama.cpp had to store in another type than the level's
    total_tensors: int


def ladder_dir(alias: str) -> Path:
    return cache_dir().parent / "ladder" / alias


def _source_key(path: Path) -> str:
    """Identifies the source file and the quantizer: a change to either rebuilds the ladder."""
    import llama_cpp

    st = path.stat()
    return hashlib.sha256(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{llama_cpp.__version__}".encode()).hexdigest()[:16]


_CHILD = r"""
import ctypes, sys, llama_cpp
src, out, ftype = sys.argv[1], sys.argv[2], sys.argv[3]
p = llama_cpp.llama_model_quantize_default_params()
p.nthread = int(sys.argv[4])
p.ftype = getattr(llama_cpp, "LLAMA_FTYPE_MOSTLY_" + ftype)
p.allow_requantize = True   # the source is itself quantized
sys.exit(llama_cpp.llama_model_quantize(src.encode(), out.encode(), ctypes.byref(p)))
"""


def quantize_file(src: Path, out: Path, level: str, threads: int = 2) -> tuple[int, int]:
    """Run llama.cpp's quantizer on ``src``; return (fallback tensors, total tensors)."""
    if level not in LEVELS:
        raise LadderError(f"unknown level {level!r}; choose from {', '.join(LEVELS)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(".partial")
    what = f"llama.cpp could not quantize {src.name} to {level}"
    try:
        _, log = run_python(["-c", _CHILD, str(src), str(partial), LEVELS[level], str(threads)],
                            what=what, error=LadderError)
    except LadderError:
        partial.unlink(missing_ok=True)
        raise
    if not partial.exists():
        raise LadderError(f"{what}: it wrote no file:\n{tail(log)}")
    partial.replace(out)  # only a complete file gets the real name
    fallback = re.search(r"(\d+) of (\d+) tensor\(s\) required fallback", log)
    total = len(read_gguf(out).tensors)
    return (int(fallback.group(1)) if fallback else 0), total


def build_ladder(alias: str, levels: list[str] | None = None, threads: int = 2, force: bool = False,
                 progress=None) -> list[Rung]:
    """Build (or reuse) one file per level for a registry model; the F16 baseline is always built first."""
    levels = list(levels or DEFAULT_LEVELS)
    unknown = [lv for lv in levels if lv not in LEVELS]
    if unknown:
        raise LadderError(f"unknown level(s) {', '.join(unknown)}; choose from {', '.join(LEVELS)}")
    get_model(alias)
    src = model_path(alias)
    folder = ladder_dir(alias)
    folder.mkdir(parents=True, exist_ok=True)
    manifest_path = folder / "manifest.json"
    key = _source_key(src)
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    if manifest.get("key") != key or force:
        manifest = {"key": key, "source": str(src), "rungs": {}}
    order = [BASELINE] + [lv for lv in levels if lv != BASELINE]
    rungs = []
    for level in order:
        out = folder / f"{level}.gguf"
        done = manifest["rungs"].get(level)
        valid = False
        if done and out.exists():
            try:
                valid = len(read_gguf(out).tensors) == done["total"]
            except GGUFError:
                valid = False
        if not valid:
            if progress:
                progress(f"quantizing {alias} to {level}")
            source = src if level == BASELINE else folder / f"{BASELINE}.gguf"
            fallback, total = quantize_file(source, out, level, threads)
            manifest["rungs"][level] = {"fallback": fallback, "total": total}
            manifest_path.write_text(json.dumps(manifest, indent=2))
        info = manifest["rungs"][level]
        if level in levels:
            rungs.append(Rung(level, out, info["fallback"], info["total"]))
    return rungs
