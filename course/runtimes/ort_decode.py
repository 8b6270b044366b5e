"""Generation on plain ONNX Runtime: the decode loop that ONNX Runtime GenAI runs for you.

The ONNX form of a model (``course models prepare MODEL --form onnx``) is one
graph, ``model.onnx``. It computes one forward pass and nothing else:

* inputs: ``input_ids`` (``int64 [batch, seq]``, the new tokens), ``attention_mask``
  (``int64 [batch, past + seq]``, ones for every position so far) and, per layer
  ``N``, ``past_key_values.N.key`` / ``.value`` (``float32 [batch, kv_heads, past, head_size]``,
  the KV cache so far). The model builder writes the KV heads as a number but
  the head size as a name, ``kv_cache_dim``; ONNX Runtime GenAI reads it from
  ``genai_config.json`` (``head_size``), and so does :func:`genai_head_size`;
* outputs: ``logits`` (``float32 [batch, seq, vocabulary]``) and ``present.N.key`` /
  ``.value``: the cache with the new positions appended.

A generation loop is therefore: run the prompt with an empty cache
(``past = 0``), take the argmax of the last position's logits, then run that
one token with ``present.*`` fed back as ``past_key_values.*``, and so on
until an end-of-sequence token or the token budget. ONNX Runtime GenAI
(:mod:`course.backends.onnx_genai`) does exactly this in C++, plus sampling,
constrained decoding and a preallocated cache; :func:`greedy_decode` is the
same loop in a dozen lines of Python over ``onnxruntime.InferenceSession``.

:class:`TinyDecoderSession` is a stand-in with the same inputs, outputs and
errors, computed by NumPy: a two-layer toy transformer with random weights.
It lets the loop be tested without the 90 MB model, and it can also compute
its logits with no cache at all (:meth:`TinyDecoderSession.full_logits`), an
independent way to the same greedy tokens.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PAST = "past_key_values."
PRESENT = "present."
DTYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(int64)": np.int64,
          "tensor(int32)": np.int32}


def genai_head_size(folder: str | Path) -> int:
    """The head size an ONNX Runtime GenAI folder's ``genai_config.json`` gives (the graph leaves it a name)."""
    import json

    return int(json.loads((Path(folder) / "genai_config.json").read_text())["model"]["decoder"]["head_size"])


def empty_cache(session, head_size: int) -> dict[str, np.ndarray]:
    """A zero-length KV cache for every ``past_key_values.*`` input: shape ``[1, kv_heads, 0, head_size]``.

    The KV heads come from the input's shape; the head size from the caller.
    """
    cache = {}
    for arg in session.get_inputs():
        if not arg.name.startswith(PAST):
            continue
        heads = arg.shape[1]
        if not isinstance(heads, int):
            raise ValueError(f"{arg.name} has shape {arg.shape}: the number of KV heads must be a fixed number")
        cache[arg.name] = np.zeros((1, heads, 0, head_size), dtype=DTYPES[arg.type])
    return cache


def greedy_decode(session, prompt_ids: Sequence[int], max_new_tokens: int, head_size: int,
                  eos_ids: Iterable[int] = ()) -> list[int]:
    """The new token ids of a greedy generation from ``prompt_ids`` (the end-of-sequence token not included).

    The prompt is run once; every later step runs only the token just chosen,
    with the previous step's ``present.*`` as its ``past_key_values.*``.
    """
    if not prompt_ids:
        raise ValueError("the prompt has no tokens")
    names = {arg.name for arg in session.get_inputs()}
    outputs = [arg.name for arg in session.get_outputs()]
    eos = set(eos_ids)
    cache = empty_cache(session, head_size)
    step, seen, new = list(prompt_ids), 0, []
    while len(new) < max_new_tokens:
        seen += len(step)
        feed = {"input_ids": np.array([step], dtype=np.int64),
                "attention_mask": np.ones((1, seen), dtype=np.int64), **cache}
        if "position_ids" in names:  # graphs that take positions explicitly
            feed["position_ids"] = np.arange(seen - len(step), seen, dtype=np.int64)[None]
        result = dict(zip(outputs, session.run(outputs, feed)))
        token = int(np.argmax(result["logits"][0, -1]))
        if token in eos:
            break
        new.append(token)
        cache = {name: result[PRESENT + name[len(PAST):]] for name in cache}
        step = [token]
    return new


def open_session(folder: str | Path, threads: int = 2):
    """``onnxruntime.InferenceSession`` on ``folder/model.onnx``, on the CPU with ``threads`` threads."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(Path(folder) / "model.onnx"), options, providers=["CPUExecutionProvider"])


def genai_greedy(folder: str | Path, prompt_ids: Sequence[int], max_new_tokens: int,
                 threads: int = 2) -> tuple[list[int], list[int]]:
    """ONNX Runtime GenAI's own greedy tokens for the same prompt ids, and its end-of-sequence ids.

    The tokens stop before an end-of-sequence token (not included)."""
    import json

    import onnxruntime_genai as og

    config = og.Config(str(folder))
    config.clear_providers()
    config.overlay(json.dumps({"model": {"decoder": {"session_options": {
        "intra_op_num_threads": threads, "inter_op_num_threads": 1}}}}))
    model = og.Model(config)
    eos = set(og.Tokenizer(model).eos_token_ids)
    params = og.GeneratorParams(model)
    params.set_search_options(max_length=len(prompt_ids) + max_new_tokens, do_sample=False)
    generator = og.Generator(model, params)
    generator.append_tokens(list(prompt_ids))
    new: list[int] = []
    while not generator.is_done() and len(new) < max_new_tokens:
        generator.generate_next_token()
        token = int(generator.get_next_tokens()[0])
        if token in eos:
            break
        new.append(token)
    return new, sorted(int(e) for e in eos)


# --- a stand-in session ---------------------------------------------------------------------------------

class OnnxRuntimeError(RuntimeError):
    """What the stand-in raises where ONNX Runtime would refuse the inputs (``InvalidArgument``)."""


@dataclass(frozen=True)
class NodeArg:
    """What ``session.get_inputs()`` and ``get_outputs()`` give for each name (as in ONNX Runtime)."""

    name: str
    shape: list
    type: str


class TinyDecoderSession:
    """A toy decoder-only transformer with the inputs, outputs and checks of the real ONNX form.

    ``calls`` and ``tokens_run`` count what was asked of it: a loop that feeds
    the cache back runs each token once.
    """

    def __init__(self, *, vocab: int = 50, layers: int = 2, kv_heads: int = 2, head_size: int = 4,
                 width: int = 16, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.vocab, self.layers, self.kv_heads, self.head_size, self.width = vocab, layers, kv_heads, head_size, width
        inner = kv_heads * head_size
        self.embed = rng.normal(0, 1, (vocab, width)).astype(np.float32)
        self.positions = rng.normal(0, 0.5, (4096, width)).astype(np.float32)
        self.weights = [{k: rng.normal(0, 1 / math.sqrt(width), shape).astype(np.float32)
                         for k, shape in (("q", (width, inner)), ("k", (width, inner)), ("v", (width, inner)),
                                          ("o", (inner, width)))} for _ in range(layers)]
        self.unembed = rng.normal(0, 1, (width, vocab)).astype(np.float32)
        self.calls = 0
        self.tokens_run = 0

    def get_inputs(self) -> list[NodeArg]:
        args = [NodeArg("input_ids", ["batch_size", "sequence_length"], "tensor(int64)"),
                NodeArg("attention_mask", ["batch_size", "total_sequence_length"], "tensor(int64)")]
        for n in range(self.layers):
            for kind in ("key", "value"):
                args.append(NodeArg(f"{PAST}{n}.{kind}", ["batch_size", self.kv_heads, "past_sequence_length",
                                                          "kv_cache_dim"], "tensor(float)"))
        return args

    def get_outputs(self) -> list[NodeArg]:
        args = [NodeArg("logits", ["batch_size", "sequence_length", self.vocab], "tensor(float)")]
        for n in range(self.layers):
            for kind in ("key", "value"):
                args.append(NodeArg(f"{PRESENT}{n}.{kind}", ["batch_size", self.kv_heads, "total_sequence_length",
                                                             "kv_cache_dim"], "tensor(float)"))
        return args

    # -- checks as ONNX Runtime makes them ------------------------------------------------------------
    def _check(self, feed: dict) -> tuple[np.ndarray, int]:
        wanted = {a.name: a for a in self.get_inputs()}
        missing = sorted(set(wanted) - set(feed))
        if missing:
            raise OnnxRuntimeError(f"Required inputs ({missing}) are missing from input feed ({sorted(feed)}).")
        unknown = sorted(set(feed) - set(wanted))
        if unknown:
            raise OnnxRuntimeError(f"Invalid input name: {unknown[0]}")
        for name, arg in wanted.items():
            value = feed[name]
            if not isinstance(value, np.ndarray) or value.dtype != DTYPES[arg.type]:
                got = getattr(value, "dtype", type(value).__name__)
                raise OnnxRuntimeError(f"Unexpected input data type for {name}. Actual: ({got}) , "
                                       f"expected: ({arg.type})")
            if value.ndim != len(arg.shape):
                raise OnnxRuntimeError(f"Invalid rank for input: {name} Got: {value.ndim} Expected: {len(arg.shape)}")
        ids = feed["input_ids"]
        if ids.shape[0] != 1 or ids.shape[1] < 1:
            raise OnnxRuntimeError(f"input_ids has shape {ids.shape}: one sequence of at least one token")
        if ids.min() < 0 or ids.max() >= self.vocab:
            raise OnnxRuntimeError(f"indices element out of data bounds, vocabulary {self.vocab}")
        past = None
        for n in range(self.layers):
            for kind in ("key", "value"):
                cache = feed[f"{PAST}{n}.{kind}"]
                if cache.shape[0] != 1 or cache.shape[1] != self.kv_heads or cache.shape[3] != self.head_size:
                    raise OnnxRuntimeError(f"{PAST}{n}.{kind} has shape {cache.shape}: expected "
                                           f"[1, {self.kv_heads}, past, {self.head_size}]")
                if past is None:
                    past = cache.shape[2]
                elif cache.shape[2] != past:
                    raise OnnxRuntimeError("the past_key_values inputs have different lengths")
        total = past + ids.shape[1]
        if feed["attention_mask"].shape != (1, total):
            raise OnnxRuntimeError(f"attention_mask has shape {feed['attention_mask'].shape}: expected (1, {total}), "
                                   f"past ({past}) + new tokens ({ids.shape[1]})")
        if not (feed["attention_mask"] == 1).all():
            raise OnnxRuntimeError("attention_mask must be all ones for one unpadded sequence")
        return ids[0], past

    def _forward(self, ids: np.ndarray, past: list[tuple[np.ndarray, np.ndarray]] | None):
        """Logits of ``ids`` after the cached positions ``past``, and the cache with them appended."""
        start = 0 if not past else past[0][0].shape[1]
        h = self.embed[ids] + self.positions[start:start + len(ids)]
        presents = []
        scale = 1 / math.sqrt(self.head_size)
        for n, w in enumerate(self.weights):
            split = lambda x: x.reshape(len(ids), self.kv_heads, self.head_size).transpose(1, 0, 2)  # noqa: E731
            q, k, v = split(h @ w["q"]), split(h @ w["k"]), split(h @ w["v"])
            if past:
                k = np.concatenate([past[n][0], k], axis=1)
                v = np.concatenate([past[n][1], v], axis=1)
            presents.append((k, v))
            scores = np.einsum("hqd,hkd->hqk", q, k) * scale
            query_pos = start + np.arange(len(ids))[:, None]
            scores = np.where(np.arange(k.shape[1])[None, :] <= query_pos, scores, -np.inf)
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            attn = np.einsum("hqk,hkd->qhd", scores / scores.sum(axis=-1, keepdims=True), v)
            h = np.tanh(h + attn.reshape(len(ids), -1) @ w["o"])
        return (h @ self.unembed).astype(np.float32), presents

    def run(self, output_names: list[str] | None, feed: dict) -> list[np.ndarray]:
        ids, past_len = self._check(feed)
        self.calls += 1
        self.tokens_run += len(ids)
        past = [(feed[f"{PAST}{n}.key"][0], feed[f"{PAST}{n}.value"][0]) for n in range(self.layers)]
        logits, presents = self._forward(ids, past if past_len else None)
        out = {"logits": logits[None]}
        for n, (k, v) in enumerate(presents):
            out[f"{PRESENT}{n}.key"], out[f"{PRESENT}{n}.value"] = k[None].astype(np.float32), v[None].astype(np.float32)
        names = output_names or [a.name for a in self.get_outputs()]
        unknown = [n for n in names if n not in out]
        if unknown:
            raise OnnxRuntimeError(f"Invalid output name: {unknown[0]}")
        return [out[n] for n in names]

    # -- an independent path to the same answer ------------------------------------------------------
    def full_logits(self, ids: Sequence[int]) -> np.ndarray:
        """The logits of every position of ``ids``, computed from scratch with no cache."""
        return self._forward(np.asarray(ids, dtype=np.int64), None)[0]

    def greedy_without_cache(self, prompt_ids: Sequence[int], max_new_tokens: int,
                             eos_ids: Iterable[int] = ()) -> list[int]:
        """Greedy tokens the slow way: the whole sequence run again for every token."""
        ids, new, eos = list(prompt_ids), [], set(eos_ids)
        while len(new) < max_new_tokens:
            token = int(np.argmax(self.full_logits(ids)[-1]))
            if token in eos:
                break
            new.append(token)
            ids.append(token)
        return new


__all__ = ["NodeArg", "OnnxRuntimeError", "TinyDecoderSession", "empty_cache", "genai_greedy", "genai_head_size", "greedy_decode",
           "open_session"]
