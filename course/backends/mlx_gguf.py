"""Apple MLX (on the CPU here): a registry model's own GGUF file behind the course's chat interface.

MLX reads GGUF itself: ``mx.load(path, return_metadata=True)`` returns the
tensors by their GGUF names and the header's metadata. Q4_0, Q4_1 and Q8_0
tensors stay quantized as MLX's affine format (``uint32`` packed weights with
``float16`` scales and biases per group of 32), so SmolLM2's Q4_1 file runs
with no conversion step; other types arrive as ``float16``, which the CPU runs
very slowly, so they are widened to ``float32``.

:func:`load_gguf_model` builds ``mlx_lm``'s Llama model from the header
(``rope_traditional=True``: GGUF stores Q and K rows in the order of llama.cpp's
rotary embedding) and quantizes each layer with the bits its arrays say.
The tokenizer and chat template are llama.cpp's own, read from the same file
(``vocab_only``), so MLX reads exactly the token ids llama.cpp would.

On Linux the ``mlx[cpu]`` wheel uses a reference BLAS: expect several times
less speed than llama.cpp on the same file. MLX is built for Apple silicon's
unified memory; here it shows the programming model, not the speed.
"""

from __future__ import annotations

import codecs
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .base import ChatBackend
from .toolcall_text import closing_deltas, template_messages
from .types import BackendUnavailableError, BadRequestError, ChatRequest, Delta, Usage

GROUP = 32  # GGUF's legacy quants keep one scale (and one minimum) per 32 weights
INSTALL = 'pip install -e ".[mlx]"  (mlx[cpu] and mlx-lm[cpu] on Linux)'

_LAYER_NAMES = {
    "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj", "attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm",
}
_TOP_NAMES = {"token_embd": "model.embed_tokens", "output_norm": "model.norm", "output": "lm_head"}
_BLOCK = re.compile(r"blk\.(\d+)\.(\w+)\.(weight|scales|biases)$")
_TOP = re.compile(r"(\w+)\.(weight|scales|biases)$")


def mlx_modules():
    """``(mlx.core, mlx.nn, mlx_lm.models.llama, mlx_lm.models.cache)``, or a clear error saying what to install."""
    try:
        import mlx.core as mx
        import mlx.nn as nn
        from mlx_lm.models import cache, llama
    except ImportError as exc:
        raise BackendUnavailableError(f"the mlx backend needs {exc.name or 'mlx'}: {INSTALL}") from None
    return mx, nn, llama, cache


def mlx_name(gguf_name: str) -> str:
    """The name of a GGUF tensor in ``mlx_lm``'s Llama model (``blk.3.attn_q.scales`` -> ``model.layers.3.self_attn.q_proj.scales``)."""
    m = _BLOCK.match(gguf_name)
    if m:
        block, part, kind = m.groups()
        if part not in _LAYER_NAMES:
            raise ValueError(f"unknown GGUF tensor {gguf_name!r}")
        return f"model.layers.{block}.{_LAYER_NAMES[part]}.{kind}"
    m = _TOP.match(gguf_name)
    if m and m.group(1) in _TOP_NAMES:
        return f"{_TOP_NAMES[m.group(1)]}.{m.group(2)}"
    raise ValueError(f"unknown GGUF tensor {gguf_name!r}")


def bits_of(weight_cols: int, scale_cols: int, group: int = GROUP) -> int:
    """Bits per weight of an affine-quantized array: ``uint32`` columns hold ``32 / bits`` weights each."""
    in_features = scale_cols * group
    bits = weight_cols * 32 // in_features
    if bits * in_features != weight_cols * 32 or bits not in (2, 3, 4, 5, 6, 8):
        raise ValueError(f"{weight_cols} packed columns and {scale_cols} groups of {group} are not a known quantization")
    return bits


MLX_TYPES = ("F32", "F16", "Q4_0", "Q4_1", "Q8_0")  # what mx.load reads from GGUF


def check_architecture(path: str | Path, metadata: dict[str, Any]) -> None:
    """A clear error unless the GGUF header (``metadata``) says the llama architecture, which mlx_lm's Llama runs."""
    arch = str(_scalar(metadata.get("general.architecture", "unknown")))
    if arch != "llama":
        raise BadRequestError(f"the mlx backend loads llama-architecture GGUF files (SmolLM2); {Path(path).name} is "
                              f"{arch!r}: use the llama.cpp backend for it")


def _file_type(metadata: dict[str, Any]) -> str:
    import gguf

    try:
        return gguf.LlamaFileType(int(_scalar(metadata["general.file_type"]))).name.removeprefix("MOSTLY_")
    except (KeyError, ValueError, TypeError):
        return "an unknown type"


def _scalar(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def load_gguf_model(path: str | Path):
    """(mlx_lm Llama model, metadata) from a llama-architecture GGUF file, its quantized tensors kept quantized."""
    mx, nn, llama, _ = mlx_modules()
    try:
        arrays, meta = mx.load(str(path), return_metadata=True)
    except RuntimeError as exc:  # mx.load names no tensor: say what the file holds and what MLX reads
        raise BadRequestError(f"MLX cannot read {Path(path).name} ({exc}): it reads GGUF tensors of types "
                              f"{', '.join(MLX_TYPES)}; use the llama.cpp backend for other quantizations") from None
    check_architecture(path, meta)
    get = lambda key: _scalar(meta[f"llama.{key}"])  # noqa: E731
    heads = int(get("attention.head_count"))
    args = llama.ModelArgs(
        model_type="llama", hidden_size=int(get("embedding_length")), num_hidden_layers=int(get("block_count")),
        intermediate_size=int(get("feed_forward_length")), num_attention_heads=heads,
        num_key_value_heads=int(_scalar(meta.get("llama.attention.head_count_kv", heads))),
        rms_norm_eps=float(get("attention.layer_norm_rms_epsilon")),
        vocab_size=int(_scalar(meta.get("llama.vocab_size", arrays["token_embd.weight"].shape[0]))),
        rope_theta=float(_scalar(meta.get("llama.rope.freq_base", 10000.0))), rope_traditional=True,
        tie_word_embeddings="output.weight" not in arrays,
        max_position_embeddings=int(get("context_length")))
    model = llama.Model(args)
    weights = {}
    for name, array in arrays.items():
        if array.dtype == mx.float16 and not name.endswith((".scales", ".biases")):
            array = array.astype(mx.float32)  # float16 matmuls crawl on the CPU
        weights[mlx_name(name)] = array
    quantized = {n.removesuffix(".scales"): bits_of(weights[n.removesuffix("scales") + "weight"].shape[-1],
                                                     weights[n].shape[-1])
                 for n in weights if n.endswith(".scales")}

    def predicate(module_path: str, module: Any):
        bits = quantized.get(module_path)
        return {"group_size": GROUP, "bits": bits} if bits else False

    nn.quantize(model, class_predicate=predicate)
    model.load_weights(list(weights.items()), strict=True)
    mx.eval(model.parameters())
    return model, meta


class MlxBackend(ChatBackend):
    """A registry model's GGUF file run by Apple MLX (``mlx[cpu]`` on Linux)."""

    name = "mlx"

    def __init__(self, model: str = "smollm2-135m", *, model_file: str | Path | None = None, n_ctx: int = 4096,
                 clock=None):
        super().__init__(clock=clock)
        from ..models import model_path
        from .llama_loader import chat_formatter, new_llama

        self.mx, _, _, self._cache = mlx_modules()
        self.model = model
        self.path = Path(model_file) if model_file else model_path(model)
        self.vocab = new_llama(self.path, n_ctx=64, vocab_only=True)  # llama.cpp's tokenizer for the same file
        try:
            check_architecture(self.path, self.vocab.metadata)  # before mx.load, whose error would be vaguer
            self.net, self.metadata = load_gguf_model(self.path)
        except BadRequestError as exc:
            kind = _file_type(self.vocab.metadata)
            self.vocab.close()
            raise BadRequestError(f"{exc} (this file is {kind})") from None
        self._formatter = chat_formatter(self.vocab)
        if self._formatter is None:
            raise BadRequestError(f"model '{model}' has no chat template: the mlx backend chats with chat models")
        self.n_ctx = n_ctx
        self._eos = {self.vocab.token_eos()}
        eot = getattr(self.vocab, "_model", None)
        if eot is not None and hasattr(eot, "token_eot") and eot.token_eot() >= 0:
            self._eos.add(eot.token_eot())
        self._lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        return len(self.vocab.tokenize(text.encode(), add_bos=False, special=True)) if text else 0

    def prompt_ids(self, request: ChatRequest) -> list[int]:
        prompt = self._formatter(messages=template_messages(request, native_tools=False)).prompt
        return self.vocab.tokenize(prompt.encode(), add_bos=False, special=True)

    def _generate(self, request: ChatRequest) -> Iterator[Delta]:
        if request.json_schema is not None:
            raise BadRequestError("response_format is not supported by the course's mlx backend: use llama.cpp "
                                  "or onnxruntime-genai for constrained output")
        mx = self.mx
        ids = self.prompt_ids(request)
        if len(ids) + request.max_tokens > self.n_ctx:
            raise BadRequestError(f"the prompt has {len(ids)} tokens and the reply may have {request.max_tokens}, "
                                  f"more than the context of {self.n_ctx}")
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        pieces: list[str] = []
        n, finish = 0, "stop"
        with self._lock:
            if request.seed is not None:
                mx.random.seed(request.seed)
            cache = self._cache.make_prompt_cache(self.net)
            logits = self.net(mx.array([ids]), cache=cache)[:, -1, :]
            while n < request.max_tokens:
                if request.temperature > 0:
                    token = mx.random.categorical(logits / request.temperature)
                else:
                    token = mx.argmax(logits, axis=-1)
                token_id = int(token.item())
                if token_id in self._eos:
                    break
                n += 1
                text = decoder.decode(self.vocab.detokenize([token_id], special=False))
                pieces.append(text)
                yield Delta(content="" if request.tools_active else text, tokens=1)
                logits = self.net(mx.array([[token_id]]), cache=cache)[:, -1, :]
            else:
                finish = "length"
        usage = Usage(len(ids), n)
        yield from closing_deltas("".join(pieces), request, finish, usage)

    def close(self) -> None:
        self.vocab.close()


__all__ = ["MlxBackend", "bits_of", "load_gguf_model", "mlx_name"]
