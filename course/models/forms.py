"""A registry model in each of its forms, prepared once into the course cache.

The course ships every model as one GGUF file (llama.cpp's format). Other
runtimes want other forms, made from it offline:

* ``gguf``: the shipped file itself (llama.cpp, ``course serve``);
* ``hf``: a Hugging Face folder, the GGUF's weights dequantized to float32 with
  the tokenizer (``transformers`` reads the GGUF; a model loaded that way
  refuses ``save_pretrained``, so a fresh model is built from its config, given
  the same state dict and saved). vLLM and MLX start from it;
* ``onnx``: an ONNX Runtime GenAI folder with int4 weights, built from the
  ``hf`` form by ``onnxruntime_genai``'s model builder. Foundry Local and ONNX
  Runtime GenAI run it.

Each prepared form lives in ``<cache>/forms/<alias>/<form>`` and appears only
complete (built in a work folder, then moved). The tools are the
``foundry-prepare`` extra; without them :func:`prepare` says what to install.
``course models prepare MODEL --form hf|onnx`` is the command.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import ModelError
from .registry import cache_dir, get_model, model_path

FORMS = ("gguf", "hf", "onnx")
PREPARE_EXTRA = "foundry-prepare"
INSTALL_HINT = f'pip install -e ".[{PREPARE_EXTRA}]"  (torch 2.13.0 CPU, transformers, onnxruntime-genai 0.18)'
MARKER = "course-prepared.json"
# The modules each prepared form needs to be made.
TOOLS = {"hf": ("torch", "transformers", "gguf"),
         "onnx": ("torch", "transformers", "gguf", "onnxruntime_genai", "onnxscript", "onnx_ir")}
_FOLDERS = {"hf": "hf", "onnx": "onnx-int4"}

Progress = Callable[[str, float], None]  # (stage description, fraction done of the whole job)


class PrepareError(ModelError):
    """A form cannot be prepared here, or its preparation failed; the message says what to do."""


@dataclass
class PreparedForm:
    alias: str
    form: str
    folder: Path
    bytes: int
    converted: bool  # False when an earlier run's folder was reused
    seconds: float
    stages: dict[str, float]  # seconds per stage of this run

    def to_dict(self) -> dict:
        return {"alias": self.alias, "form": self.form, "folder": str(self.folder), "bytes": self.bytes,
                "converted": self.converted, "seconds": round(self.seconds, 2),
                "stages": {k: round(v, 2) for k, v in self.stages.items()}}


def _check_form(form: str) -> None:
    if form not in FORMS:
        raise PrepareError(f"unknown form {form!r}; the forms are {', '.join(FORMS)}")


def forms_root() -> Path:
    """``forms/`` beside the joined models (``$COURSE_CACHE`` or ``~/.cache/edge-agents-course``)."""
    return cache_dir().parent / "forms"


def form_path(alias: str, form: str) -> Path:
    """Where ``form`` of ``alias`` is (gguf) or goes once prepared (hf, onnx)."""
    _check_form(form)
    get_model(alias)  # an unknown alias: a clear error listing the known ones
    if form == "gguf":
        return model_path(alias)
    return forms_root() / alias / _FOLDERS[form]


def is_prepared(alias: str, form: str) -> bool:
    if form == "gguf":
        return True
    folder = form_path(alias, form)
    return (folder / MARKER).is_file()


def missing_tools(form: str = "onnx") -> list[str]:
    """The modules needed to make ``form`` that cannot be imported here."""
    _check_form(form)
    return [name for name in TOOLS.get(form, ()) if importlib.util.find_spec(name) is None]


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def gguf_to_hf(gguf: Path, out: Path) -> None:
    """The GGUF file's weights, dequantized to float32, as a Hugging Face folder with the tokenizer."""
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
    """ONNX Runtime GenAI's model builder: int4 weights for the CPU (in a child process; its last lines on
    failure)."""
    cmd = [sys.executable, "-m", "onnxruntime_genai.models.builder", "-i", str(hf), "-o", str(out),
           "-p", "int4", "-e", "cpu", "-c", str(work)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0 or not (out / "genai_config.json").is_file():
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-8:])
        raise PrepareError(f"onnxruntime-genai's builder failed (exit {proc.returncode}):\n{tail}")


def prepare(alias: str, form: str, *, progress: Progress | None = None, force: bool = False) -> PreparedForm:
    """``form`` of ``alias`` in the course cache: made now (the ``hf`` form first, for ``onnx``), or the
    folder of an earlier run. ``force`` makes it again."""
    out = form_path(alias, form)
    if form == "gguf":
        return PreparedForm(alias, form, out, out.stat().st_size, False, 0.0, {})
    if is_prepared(alias, form) and not force:
        return PreparedForm(alias, form, out, folder_size(out), False, 0.0, {})
    missing = missing_tools(form)
    if missing:
        raise PrepareError(f"making the {form} form of {alias} needs {', '.join(missing)}: {INSTALL_HINT}")
    report = progress or (lambda stage, done: None)
    stages: dict[str, float] = {}
    start = time.perf_counter()
    work = forms_root() / alias / f"work-{form}"  # the onnx form makes the hf form inside its own run
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        if form == "hf":
            report("dequantizing the GGUF to a Hugging Face folder (transformers)", 0.05)
            gguf_to_hf(model_path(alias), work / "staged")
            stages["gguf to hf"] = time.perf_counter() - start
        else:
            hf = prepare(alias, "hf", force=force,
                         progress=lambda stage, done: report(stage, 0.5 * done))
            stages.update(hf.stages)
            t = time.perf_counter()
            report("building the ONNX int4 model (onnxruntime-genai)", 0.5)
            hf_to_onnx(hf.folder, work / "staged", work / "builder-cache")
            stages["hf to onnx int4"] = time.perf_counter() - t
        seconds = time.perf_counter() - start
        (work / "staged" / MARKER).write_text(json.dumps(
            {"alias": alias, "form": form, "source": model_path(alias).name, "seconds": round(seconds, 2),
             "stages": {k: round(v, 2) for k, v in stages.items()}}, indent=2))
        shutil.rmtree(out, ignore_errors=True)
        shutil.move(str(work / "staged"), str(out))  # only a complete folder ever gets the form's name
        report("done", 1.0)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return PreparedForm(alias, form, out, folder_size(out), True, seconds, stages)
