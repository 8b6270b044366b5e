"""How much memory a model needs, predicted from its shape, and checked against llama.cpp.

Three pieces make up the memory llama.cpp allocates for one model with one
context:

* **weights**: every tensor's bytes; for a quantized tensor that is
  ``parameters * bits_per_weight / 8`` (Q4_0 stores 4.5 bits per weight: 4 per
  value plus one 16-bit scale per 32 values);
* **the KV cache**: for every layer, a key and a value vector per KV head per
  position of the context, ``2 * layers * kv_heads * head_size * n_ctx``
  elements, each stored in the cache type (f16 by default: 2 bytes);
* **the compute buffer**: scratch space for one micro-batch of
  ``n_ubatch`` tokens, whose largest part is the logits,
  ``n_ubatch * vocabulary * 4`` bytes. For a model with a big vocabulary and
  few parameters it is the largest of the three.

:func:`llama_cpp_report` loads a model in a child process with llama.cpp's
log switched on and reads back what llama.cpp says it allocated, so the
predictions can be checked (``lessons/l02_slms_and_gguf/examples``).
"""

from __future__ import annotations

import json
import math
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from ..child import run_python, tail
from .gguf_file import GGUFFile, read_gguf

MiB = 1024 * 1024

# Bytes per element of the KV cache for each cache type llama.cpp accepts
# (block types store 32 values in a block with a 16-bit scale, and a 16-bit
# minimum for the _1 types).
KV_CACHE_TYPES: dict[str, float] = {
    "f32": 4.0, "f16": 2.0, "bf16": 2.0,
    "q8_0": 34 / 32, "q5_1": 24 / 32, "q5_0": 22 / 32, "q4_1": 20 / 32, "q4_0": 18 / 32,
}
# ggml type ids of the cache types, as llama-cpp-python's type_k/type_v take them.
KV_CACHE_TYPE_IDS = {"f32": 0, "f16": 1, "q4_0": 2, "q4_1": 3, "q5_0": 6, "q5_1": 7, "q8_0": 8, "bf16": 30}

# llama.cpp rounds the context up to a multiple of this many cells.
LLAMA_CPP_CTX_PAD = 256


def weights_bytes(n_params: int | float, bits_per_weight: float) -> float:
    """The bytes of ``n_params`` weights stored at ``bits_per_weight`` bits each."""
    if n_params < 0 or bits_per_weight <= 0:
        raise ValueError(f"need n_params >= 0 and bits_per_weight > 0, got {n_params} and {bits_per_weight}")
    return n_params * bits_per_weight / 8


def kv_cache_bytes(n_layers: int, n_kv_heads: int, head_size: int, n_ctx: int, cache_type: str = "f16") -> float:
    """Bytes of the KV cache: a key and a value per layer, KV head, head dimension and position."""
    if cache_type not in KV_CACHE_TYPES:
        raise ValueError(f"unknown cache type {cache_type!r}; llama.cpp accepts {', '.join(KV_CACHE_TYPES)}")
    for name, value in (("n_layers", n_layers), ("n_kv_heads", n_kv_heads), ("head_size", head_size), ("n_ctx", n_ctx)):
        if not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return 2 * n_layers * n_kv_heads * head_size * n_ctx * KV_CACHE_TYPES[cache_type]


def llama_cpp_ctx(n_ctx: int) -> int:
    """The number of cells llama.cpp allocates when asked for ``n_ctx``: rounded up to 256."""
    return math.ceil(n_ctx / LLAMA_CPP_CTX_PAD) * LLAMA_CPP_CTX_PAD


@dataclass(frozen=True)
class ModelShape:
    """What the memory of a model depends on, read from its GGUF header."""

    name: str
    parameters: int
    tensor_bytes: int
    layers: int
    heads: int  # query heads: the attention scores have one matrix per head
    kv_heads: int
    head_size: int  # of keys
    value_head_size: int
    vocabulary: int

    @property
    def bits_per_weight(self) -> float:
        return 8 * self.tensor_bytes / self.parameters

    @classmethod
    def from_gguf(cls, g: GGUFFile | str | Path) -> ModelShape:
        if not isinstance(g, GGUFFile):
            g = read_gguf(g)
        heads = g.arch_value("attention.head_count")
        embedding = g.arch_value("embedding_length")
        key = g.arch_value("attention.key_length", embedding // heads)
        tokens = g.metadata.get("tokenizer.ggml.tokens")
        vocab = g.arch_value("vocab_size", len(tokens) if isinstance(tokens, list) else 0)
        return cls(
            name=str(g.metadata.get("general.name", g.path.name)),
            parameters=g.parameter_count,
            tensor_bytes=sum(t.n_bytes for t in g.tensors),
            layers=int(g.arch_value("block_count")),
            heads=int(heads),
            kv_heads=int(g.arch_value("attention.head_count_kv", heads)),
            head_size=int(key),
            value_head_size=int(g.arch_value("attention.value_length", key)),
            vocabulary=int(vocab),
        )


@dataclass(frozen=True)
class MemoryEstimate:
    n_ctx: int  # cells, after llama.cpp's rounding
    cache_type: str
    weights: float
    kv_cache: float
    compute: float  # the logits of one micro-batch: the largest part of llama.cpp's compute buffer

    @property
    def total(self) -> float:
        return self.weights + self.kv_cache + self.compute

    def as_mib(self) -> dict:
        return {k: (v / MiB if isinstance(v, float) else v) for k, v in {**asdict(self), "total": self.total}.items()}


def predict_memory(shape: ModelShape, n_ctx: int, cache_type: str = "f16", n_ubatch: int = 512) -> MemoryEstimate:
    """Predict what llama.cpp allocates for ``shape`` with a context of ``n_ctx`` tokens."""
    cells = llama_cpp_ctx(n_ctx)
    per_elem = KV_CACHE_TYPES.get(cache_type)
    if per_elem is None:
        raise ValueError(f"unknown cache type {cache_type!r}; llama.cpp accepts {', '.join(KV_CACHE_TYPES)}")
    # keys and values may have different head sizes (Gemma's are equal, DeepSeek's are not)
    kv = shape.layers * shape.kv_heads * (shape.head_size + shape.value_head_size) * cells * per_elem
    ubatch = min(n_ubatch, cells)
    return MemoryEstimate(cells, cache_type, float(shape.tensor_bytes), float(kv),
                          float(ubatch * shape.vocabulary * 4))


# --- what llama.cpp reports ------------------------------------------------------------

_PROBE = r"""
import json, sys
from course.backends.llama_loader import new_llama
new_llama(sys.argv[1], n_threads=1, verbose=True, **json.loads(sys.argv[2])).close()
"""

_MIB = r"=\s*([0-9.]+) MiB"
# The buffer that holds the file's weights: memory-mapped, or read in when mmap is off.
_MAPPED_BUFFERS = ("CPU_Mapped", "CPU")


def parse_llama_log(log: str) -> dict:
    """The allocations llama.cpp's log reports, in MiB: weights, KV cache, compute buffer.

    The weights appear as one line per *model buffer*: ``CPU_Mapped`` (the
    file, memory-mapped; ``CPU`` when it is read in instead), and, where
    llama.cpp uses its extra buffer types, copies made at load time such as
    ``CPU_REPACK`` (weights re-laid for the CPU's vector units) or ``AMX``
    (tiles for Intel's matrix unit). Every buffer is kept in ``model_buffers``;
    ``weights_extra`` adds up all but the mapped one.
    """
    def total(pattern: str) -> float | None:
        found = [float(x) for x in re.findall(pattern, log)]
        return sum(found) if found else None

    buffers: dict[str, float] = {}
    for name, mib in re.findall(r"(\S+) model buffer size\s*" + _MIB, log):
        buffers[name] = round(buffers.get(name, 0.0) + float(mib), 2)
    mapped = next((name for name in _MAPPED_BUFFERS if name in buffers), None)
    n_ctx = re.search(r"llama_context: n_ctx\s*=\s*(\d+)", log)
    compute = re.search(r"compute buffer size\s*" + _MIB, log)
    return {
        "n_ctx": int(n_ctx.group(1)) if n_ctx else None,
        "model_buffers": buffers,
        "weights_mapped": buffers[mapped] if mapped else None,
        "weights_extra": round(sum(v for k, v in buffers.items() if k != mapped), 2),
        "kv_cache": total(r"llama_kv_cache: size\s*" + _MIB),
        "compute": float(compute.group(1)) if compute else None,
    }


def llama_cpp_report(model: str | Path, n_ctx: int, cache_type: str = "f16", timeout: float = 120, *,
                     type_v: str | None = None, flash_attn: bool | None = None, n_batch: int = 512,
                     n_ubatch: int = 512) -> dict:
    """Load ``model`` in a child process with llama.cpp's log on and return what it allocated (MiB).

    ``cache_type`` is the key cache's type, and the value cache's unless
    ``type_v`` is given. A quantized V cache needs flash attention in
    llama.cpp, so unless ``flash_attn`` is given it is on exactly when the
    value cache is quantized.
    """
    type_v = type_v or cache_type
    for t in (cache_type, type_v):
        if t not in KV_CACHE_TYPE_IDS:
            raise ValueError(f"unknown cache type {t!r}; llama.cpp accepts {', '.join(KV_CACHE_TYPE_IDS)}")
    if flash_attn is None:
        flash_attn = type_v not in ("f16", "f32", "bf16")
    settings = {"n_ctx": n_ctx, "type_k": KV_CACHE_TYPE_IDS[cache_type], "type_v": KV_CACHE_TYPE_IDS[type_v],
                "flash_attn": flash_attn, "n_batch": n_batch, "n_ubatch": n_ubatch}
    what = (f"llama.cpp could not load {model} with n_ctx={n_ctx}, cache K {cache_type} V {type_v}, "
            f"flash attention {'on' if flash_attn else 'off'}")
    _, log = run_python(["-c", _PROBE, str(model), json.dumps(settings)], what=what, timeout=timeout)
    report = parse_llama_log(log)
    if report["kv_cache"] is None:
        raise RuntimeError(f"{what}: its log reports no KV cache:\n{tail(log)}")
    return report


if __name__ == "__main__":  # pragma: no cover - a quick look: python -m course.formats.memory FILE CTX
    print(json.dumps(llama_cpp_report(sys.argv[1], int(sys.argv[2])), indent=2))


# --- the source's size table, from public parameter counts -----------------------------------

# Parameter counts and shapes as their model cards publish them (not measurable offline: these
# models are not shipped). Head size = embedding / heads.
PUBLIC_MODELS: dict[str, dict] = {
    "Qwen2.5-0.5B": {"parameters": 0.49e9, "layers": 24, "kv_heads": 2, "head_size": 64, "vocabulary": 151_936},
    "Phi-4-mini": {"parameters": 3.84e9, "layers": 32, "kv_heads": 8, "head_size": 128, "vocabulary": 200_064},
    "Phi-4": {"parameters": 14.7e9, "layers": 40, "kv_heads": 10, "head_size": 128, "vocabulary": 100_352},
}
# The sizes the source material gives, in GB (10^9 bytes).
SOURCE_SIZES_GB = {"Qwen2.5-0.5B": 0.5, "Phi-4-mini": 2.4, "Phi-4": 7.0}
# Nominal bits per weight of whole-file levels: the block formats' own figure (a real file keeps
# norms in F32 and some tensors in a larger type, so it is a little bigger).
NOMINAL_BPW = {"F16": 16.0, "Q8_0": 8.5, "Q6_K": 6.5625, "Q5_K": 5.5, "Q5_0": 5.5, "Q4_K": 4.5, "Q4_0": 4.5,
               "Q3_K": 3.4375, "Q2_K": 2.625}


def size_table(models: dict[str, dict] = PUBLIC_MODELS, claims: dict[str, float] = SOURCE_SIZES_GB,
               n_ctx: int = 4096) -> list[dict]:
    """For each model: its weights at each level, the bits per weight the source's figure implies,
    the nearest level to that, and the f16 KV cache at ``n_ctx``."""
    rows = []
    for name, m in models.items():
        sizes = {level: weights_bytes(m["parameters"], bpw) / 1e9 for level, bpw in NOMINAL_BPW.items()}
        row = {"model": name, "parameters": m["parameters"], "sizes_gb": sizes,
               "kv_cache_gb": kv_cache_bytes(m["layers"], m["kv_heads"], m["head_size"], n_ctx) / 1e9}
        if name in claims:
            implied = claims[name] * 1e9 * 8 / m["parameters"]
            nearest = min(NOMINAL_BPW, key=lambda lv: abs(NOMINAL_BPW[lv] - implied))
            row.update(source_gb=claims[name], implied_bpw=implied, nearest_level=nearest)
        rows.append(row)
    return rows
