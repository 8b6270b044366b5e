"""``course foundry prepare``: a registry model as an ONNX Runtime GenAI folder in Foundry Local's local catalog.

Foundry Local runs ONNX Runtime GenAI models; the course ships GGUF files.
The path, offline and once per model:

1. **GGUF to Hugging Face weights.** ``transformers`` reads the GGUF file and
   dequantizes it to float32 (``from_pretrained(folder, gguf_file=...)``). A
   model loaded that way refuses ``save_pretrained``, so a fresh model is built
   from its config, given the same state dict, and saved with the tokenizer.
2. **Hugging Face to ONNX Runtime GenAI, int4.** ``onnxruntime_genai``'s model
   builder writes ``model.onnx`` with int4 weights and ``genai_config.json``.
3. **Registration** in Foundry Local's local catalog under
   ``<alias>-generic-cpu:1``; the catalog remembers it in its cache folder, so
   a second run finds it and registers nothing.

Everything goes under the course cache (``~/.cache/edge-agents-course/foundry``,
or ``$COURSE_CACHE/foundry``). The heavy tools (torch, transformers,
onnxruntime-genai's builder) are the ``foundry-prepare`` extra; without them
the command says what to install.

The weights Foundry Local runs are therefore re-quantized twice (the GGUF's
Q4_1 to float32, then to ONNX int4): the lesson's side-by-side table compares
the two runtimes on the same source weights, not on bit-identical ones.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PREPARE_EXTRA = "foundry-prepare"
INSTALL_HINT = f'pip install -e ".[{PREPARE_EXTRA}]"  (torch 2.13.0 CPU, transformers, onnxruntime-genai 0.18)'
VERSION = 1

Progress = Callable[[str, float], None]  # (stage description, fraction done of the whole job)


class PrepareError(RuntimeError):
    """The preparation cannot run or failed; the message says what to do."""


def cache_root() -> Path:
    """``foundry/`` beside the course's joined models (``$COURSE_CACHE`` or ``~/.cache/edge-agents-course``)."""
    from ..models.registry import cache_dir

    return cache_dir().parent / "foundry"


def model_id(alias: str) -> str:
    return f"{alias}-generic-cpu:{VERSION}"


@dataclass
class Prepared:
    alias: str
    model_id: str
    folder: Path  # the ONNX Runtime GenAI folder (genai_config.json, model.onnx ...)
    bytes: int
    converted: bool  # False when an earlier run's folder was reused
    seconds: float
    stages: dict[str, float]  # seconds per stage of this run

    def to_dict(self) -> dict:
        return {"alias": self.alias, "model_id": self.model_id, "folder": str(self.folder), "bytes": self.bytes,
                "converted": self.converted, "seconds": round(self.seconds, 2),
                "stages": {k: round(v, 2) for k, v in self.stages.items()}}


def missing_tools() -> list[str]:
    """The modules of the ``foundry-prepare`` extra that cannot be imported here."""
    import importlib.util

    return [name for name in ("torch", "transformers", "onnxruntime_genai", "onnxscript", "onnx_ir")
            if importlib.util.find_spec(name) is None]


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def onnx_folder(alias: str) -> Path:
    return cache_root() / "models" / model_id(alias).replace(":", "-")


def is_converted(alias: str) -> bool:
    done = onnx_folder(alias) / "course-prepared.json"
    return done.is_file() and (onnx_folder(alias) / "genai_config.json").is_file()


def gguf_to_hf(gguf: Path, out: Path) -> None:
    """Stage 1: the GGUF file's weights, dequantized, as a Hugging Face folder (with the tokenizer)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    config = AutoConfig.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    fresh = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    result = fresh.load_state_dict(loaded.state_dict(), strict=False)
    if result.missing_keys:
        raise PrepareError(f"the GGUF's weights do not cover the model: missing {result.missing_keys[:5]}")
    fresh.save_pretrained(out)
    tokenizer.save_pretrained(out)


def hf_to_onnx(hf: Path, out: Path, work: Path) -> None:
    """Stage 2: ONNX Runtime GenAI's model builder, int4 weights for the CPU."""
    cmd = [sys.executable, "-m", "onnxruntime_genai.models.builder", "-i", str(hf), "-o", str(out),
           "-p", "int4", "-e", "cpu", "-c", str(work)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0 or not (out / "genai_config.json").is_file():
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-8:])
        raise PrepareError(f"onnxruntime-genai's builder failed (exit {proc.returncode}):\n{tail}")


def convert(alias: str, *, progress: Progress | None = None, force: bool = False) -> Prepared:
    """Stages 1 and 2 into the course cache, or the folder of an earlier run."""
    from ..models import get_model, model_path

    get_model(alias)  # unknown alias: a clear error listing the known ones
    out = onnx_folder(alias)
    if is_converted(alias) and not force:
        return Prepared(alias, model_id(alias), out, folder_size(out), False, 0.0, {})
    missing = missing_tools()
    if missing:
        raise PrepareError(f"preparing a model for Foundry Local needs {', '.join(missing)}: {INSTALL_HINT}")
    report = progress or (lambda stage, done: None)
    stages: dict[str, float] = {}
    start = time.perf_counter()
    work = cache_root() / "work" / alias
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        report("reading the GGUF file", 0.0)
        gguf = model_path(alias)
        t = time.perf_counter()
        report("dequantizing to a Hugging Face folder (transformers)", 0.05)
        gguf_to_hf(gguf, work / "hf")
        stages["gguf to hf"] = time.perf_counter() - t
        t = time.perf_counter()
        report("building the ONNX int4 model (onnxruntime-genai)", 0.5)
        staging = work / "onnx"
        hf_to_onnx(work / "hf", staging, work / "builder-cache")
        stages["hf to onnx int4"] = time.perf_counter() - t
        shutil.rmtree(out, ignore_errors=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staging), str(out))  # only a complete folder ever appears under models/
        seconds = time.perf_counter() - start
        (out / "course-prepared.json").write_text(json.dumps(
            {"alias": alias, "source": gguf.name, "model_id": model_id(alias), "seconds": round(seconds, 2),
             "stages": {k: round(v, 2) for k, v in stages.items()}}, indent=2))
        report("done", 1.0)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return Prepared(alias, model_id(alias), out, folder_size(out), True, seconds, stages)
