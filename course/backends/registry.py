"""Every chat runtime of the course, by name: one line each.

A backend is chosen by its name (``make_backend("llama.cpp", "smollm2-135m")``)
and its module is imported only then, so a runtime whose optional extra is not
installed costs nothing until it is asked for, and then says which extra to
install. Adding a runtime (ONNX Runtime GenAI, MLX, vLLM) is one module with a
:class:`~course.backends.base.ChatBackend` subclass plus one line here.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from .types import BackendUnavailableError


@dataclass(frozen=True)
class BackendSpec:
    name: str  # also the class's ``name`` attribute
    module: str
    cls: str
    extra: str | None = None  # the pyproject extra its module needs beyond the course's own dependencies
    about: str = ""


BACKENDS: dict[str, BackendSpec] = {spec.name: spec for spec in (
    BackendSpec("llama.cpp", "course.backends.llama_cpp", "LlamaCppBackend",
                about="a registry model (or any GGUF file) in this process"),
    BackendSpec("openai", "course.backends.openai_compat", "OpenAICompatBackend",
                about="any OpenAI-compatible endpoint: course serve, vLLM, Ollama's /v1, llama.cpp's server"),
    BackendSpec("ollama", "course.backends.ollama_native", "OllamaBackend", about="Ollama's native API"),
    BackendSpec("foundry-local", "course.foundry.runtime", "FoundryLocalBackend", extra="foundry",
                about="Foundry Local's SDK in this process (lesson 06)"),
    BackendSpec("onnxruntime-genai", "course.backends.onnx_genai", "OnnxGenAIBackend", extra="foundry-prepare",
                about="a registry model's int4 ONNX form, run by ONNX Runtime GenAI in this process (lesson 04)"),
    BackendSpec("mlx", "course.backends.mlx_gguf", "MlxBackend", extra="mlx",
                about="a registry model's own GGUF file (Q4_0, Q4_1, Q8_0 kept quantized), run by Apple MLX (lesson 04)"),
    BackendSpec("fake", "course.backends.fake", "ScriptedBackend", about="a scripted fake that injects faults"),
)}


def backend_class(name: str) -> type:
    """The class of the backend called ``name``, its module imported now."""
    spec = BACKENDS.get(name)
    if spec is None:
        raise BackendUnavailableError(f"no backend called {name!r}; the backends are {', '.join(BACKENDS)}")
    try:
        module = importlib.import_module(spec.module)
    except ImportError as exc:
        fix = f'pip install -e ".[{spec.extra}]"' if spec.extra else "pip install -e ."
        raise BackendUnavailableError(f"the {name} backend needs {exc.name or 'a missing package'}: {fix}") from exc
    return getattr(module, spec.cls)


def make_backend(name: str, *args, **kwargs):
    """A new backend called ``name``, constructed with ``args`` and ``kwargs``."""
    return backend_class(name)(*args, **kwargs)
