"""What ``course inspect`` shows about a GGUF model: architecture, sizes, and where the bytes go."""

from __future__ import annotations

from collections import defaultdict

from .gguf_file import GGUFFile


def summarize(g: GGUFFile) -> dict:
    """The facts of a model file a learner asks first, read from its metadata and tensor infos."""
    by_type: dict[str, dict] = defaultdict(lambda: {"tensors": 0, "parameters": 0, "bytes": 0})
    for t in g.tensors:
        row = by_type[t.type_name]
        row["tensors"] += 1
        row["parameters"] += t.n_elements
        row["bytes"] += t.n_bytes
    tensor_bytes = sum(r["bytes"] for r in by_type.values())
    types = [{"type": name, **row, "share_of_file": row["bytes"] / g.file_size,
              "bits_per_weight": 8 * row["bytes"] / row["parameters"]}
             for name, row in sorted(by_type.items(), key=lambda kv: -kv[1]["bytes"])]
    tokens = g.metadata.get("tokenizer.ggml.tokens")
    heads = g.arch_value("attention.head_count")
    embedding = g.arch_value("embedding_length")
    return {
        "file": str(g.path),
        "file_bytes": g.file_size,
        "gguf_version": g.version,
        "name": g.metadata.get("general.name"),
        "architecture": g.architecture,
        "parameters": g.parameter_count,
        "bits_per_weight": 8 * tensor_bytes / g.parameter_count if g.parameter_count else 0.0,
        "context_length": g.arch_value("context_length"),
        "layers": g.arch_value("block_count"),
        "embedding_length": embedding,
        "heads": heads,
        "kv_heads": g.arch_value("attention.head_count_kv", heads),
        "head_size": g.arch_value("attention.key_length", embedding // heads if embedding and heads else None),
        "vocabulary": len(tokens) if isinstance(tokens, list) else None,
        "chat_template": "tokenizer.chat_template" in g.metadata,
        "file_type": g.metadata.get("general.file_type"),
        "metadata_keys": len(g.metadata),
        "tensors": len(g.tensors),
        "header_bytes": g.data_offset,
        "alignment": g.alignment,
        "tensor_types": types,
    }
