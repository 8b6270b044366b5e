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

Stages 1 and 2 are the model's ``hf`` and ``onnx`` forms
(:mod:`course.models.forms`), shared with the lessons on edge runtimes and
vLLM, in the course cache (``~/.cache/edge-agents-course/forms``, or
``$COURSE_CACHE/forms``); Foundry Local's own folders (catalog, logs) are under
``foundry/`` beside it. The heavy tools (torch, transformers,
onnxruntime-genai's builder) are the ``foundry-prepare`` extra; without them
the command says what to install.

The weights Foundry Local runs are therefore re-quantized twice (the GGUF's
Q4_1 to float32, then to ONNX int4): the lesson's side-by-side table compares
the two runtimes on the same source weights, not on bit-identical ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..models.forms import (INSTALL_HINT, PREPARE_EXTRA, PreparedForm, PrepareError, Progress, folder_size, form_path,
                            is_prepared)
from ..models.forms import missing_tools as _missing_tools
from ..models.forms import prepare

__all__ = ["INSTALL_HINT", "PREPARE_EXTRA", "PrepareError", "Prepared", "Progress", "cache_root", "convert",
           "folder_size", "is_converted", "missing_tools", "model_id", "onnx_folder"]

VERSION = 1


def cache_root() -> Path:
    """Foundry Local's own folders (catalog, logs, app data): ``foundry/`` beside the course's joined models."""
    from ..models.registry import cache_dir

    return cache_dir().parent / "foundry"


def model_id(alias: str) -> str:
    return f"{alias}-generic-cpu:{VERSION}"


@dataclass
class Prepared(PreparedForm):
    """The model's ONNX form, with the id it has in Foundry Local's catalog."""

    model_id: str = ""

    def to_dict(self) -> dict:
        return {"model_id": self.model_id, **super().to_dict()}


def missing_tools() -> list[str]:
    """The modules of the ``foundry-prepare`` extra that cannot be imported here."""
    return _missing_tools("onnx")


def onnx_folder(alias: str) -> Path:
    """The model's ONNX Runtime GenAI form (``course models prepare MODEL --form onnx``)."""
    return form_path(alias, "onnx")


def is_converted(alias: str) -> bool:
    return is_prepared(alias, "onnx")


def convert(alias: str, *, progress: Progress | None = None, force: bool = False) -> Prepared:
    """The model's ONNX form in the course cache (stages 1 and 2), or the folder of an earlier run."""
    form = prepare(alias, "onnx", progress=progress, force=force)
    return Prepared(**vars(form), model_id=model_id(alias))
