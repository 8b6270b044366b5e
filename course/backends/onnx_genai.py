"""ONNX Runtime GenAI in this process: a registry model's int4 ONNX form behind the course's chat interface.

``onnxruntime-genai`` runs the folder ``course models prepare MODEL --form onnx``
(or ``course foundry prepare``) builds from the model's own weights: its
``genai_config.json``, ``model.onnx`` (MatMulNBits and GroupQueryAttention
operators) and the tokenizer. The API, as of 0.18:

- ``og.Config(folder)``, ``clear_providers()`` (the CPU), an ``overlay`` of
  session options (the thread count), ``og.Model(config)``;
- ``og.Tokenizer(model).apply_chat_template(messages_json, add_generation_prompt=True)``,
  ``encode``, and a ``create_stream()`` that decodes token by token;
- ``og.GeneratorParams(model).set_search_options(max_length=..., do_sample=...)``
  and ``set_guidance("json_schema", schema)`` for ``response_format``;
- ``og.Generator(model, params)``: ``append_tokens(ids)``, then
  ``generate_next_token()`` / ``get_next_tokens()`` until ``is_done()``.

Tool calls use the course's text protocol (the tools described in the system
message, ``functions.NAME:`` parsed afterwards), as Foundry Local, which runs
the same folder, does: nothing constrains the call, so a malformed one reaches
the agent as a malformed call.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from .base import ChatBackend
from .toolcall_text import closing_deltas, template_messages
from .types import BackendUnavailableError, BadRequestError, ChatRequest, Delta, Usage

DEFAULT_THREADS = 2


def _og():
    try:
        import onnxruntime_genai
    except ImportError:
        raise BackendUnavailableError(
            'the onnxruntime-genai backend needs onnxruntime-genai: pip install -e ".[foundry-prepare]"') from None
    return onnxruntime_genai


def onnx_folder(model: str) -> Path:
    """The prepared int4 folder of registry model ``model``, or a clear error saying how to make it."""
    from ..models.forms import form_path, is_prepared

    folder = form_path(model, "onnx")
    if not is_prepared(model, "onnx"):
        raise BackendUnavailableError(
            f"{model} has no ONNX form yet: run `course models prepare {model} --form onnx` "
            "(about a minute for SmolLM2, once; it needs the foundry-prepare extra)")
    return folder


class OnnxGenAIBackend(ChatBackend):
    """A registry model's ONNX form (or any ONNX Runtime GenAI folder), run by ONNX Runtime on the CPU."""

    name = "onnxruntime-genai"

    def __init__(self, model: str = "smollm2-135m", *, folder: str | Path | None = None, threads: int | None = None,
                 clock=None):
        super().__init__(clock=clock)
        og = _og()
        self.model = model
        self.folder = Path(folder) if folder is not None else onnx_folder(model)
        if not (self.folder / "genai_config.json").is_file():
            raise BackendUnavailableError(f"{self.folder} is not an ONNX Runtime GenAI folder (no genai_config.json): "
                                          f"run `course models prepare {model} --form onnx`")
        self.threads = threads or min(DEFAULT_THREADS, os.cpu_count() or 1)
        config = og.Config(str(self.folder))
        config.clear_providers()  # the CPU
        config.overlay(json.dumps({"model": {"decoder": {"session_options": {
            "intra_op_num_threads": self.threads, "inter_op_num_threads": 1}}}}))
        self.onnx_model = og.Model(config)
        self.tokenizer = og.Tokenizer(self.onnx_model)
        genai = json.loads((self.folder / "genai_config.json").read_text())
        self.n_ctx = int(genai["model"].get("context_length") or genai.get("search", {}).get("max_length") or 2048)
        self._lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text)) if text else 0

    def prompt_ids(self, request: ChatRequest) -> list[int]:
        """The prompt's token ids: the model's chat template applied to the conversation (tools as text)."""
        messages = [{"role": m["role"], "content": m.get("content") or ""}
                    for m in template_messages(request, native_tools=False)]
        prompt = self.tokenizer.apply_chat_template(json.dumps(messages), add_generation_prompt=True)
        return [int(t) for t in self.tokenizer.encode(prompt)]

    def _params(self, request: ChatRequest, n_prompt: int):
        og = _og()
        if n_prompt + request.max_tokens > self.n_ctx:
            raise BadRequestError(
                f"the prompt has {n_prompt} tokens and the reply may have {request.max_tokens}, more than the context "
                f"of {self.n_ctx}: shorten the conversation or ask for fewer tokens")
        params = og.GeneratorParams(self.onnx_model)
        options = {"max_length": n_prompt + request.max_tokens, "do_sample": request.temperature > 0}
        if request.temperature > 0:
            options["temperature"] = request.temperature
        if request.seed is not None:
            options["random_seed"] = request.seed
        params.set_search_options(**options)
        schema = request.json_schema
        if schema is not None:
            if request.tools_active:
                raise BadRequestError("response_format and tools cannot be combined on the onnxruntime-genai backend")
            params.set_guidance("json_schema", json.dumps(schema or {"type": "object"}))
        return params

    def _generate(self, request: ChatRequest) -> Iterator[Delta]:
        og = _og()
        ids = self.prompt_ids(request)
        pieces: list[str] = []
        n = 0
        with self._lock:  # one generation at a time on a loaded model
            generator = og.Generator(self.onnx_model, self._params(request, len(ids)))
            generator.append_tokens(ids)
            stream = self.tokenizer.create_stream()
            eos = set(self.tokenizer.eos_token_ids)
            finish = "stop"
            while not generator.is_done():
                generator.generate_next_token()
                token = int(generator.get_next_tokens()[0])
                if token in eos:
                    break
                n += 1
                text = stream.decode(token)
                pieces.append(text)
                # a tool call is known only once complete: count its tokens, show no text meanwhile
                yield Delta(content="" if request.tools_active else text, tokens=1)
                if n >= request.max_tokens:
                    finish = "length"
                    break
            del generator
        usage = Usage(len(ids), n)
        yield from closing_deltas("".join(pieces), request, finish, usage)


__all__ = ["OnnxGenAIBackend", "onnx_folder"]
