"""The weights of an ONNX model and how many of their bytes one generated token reads.

An ONNX model keeps its weights as *initializers* (in ``model.onnx``, or beside
it in ``model.onnx.data`` with an offset and a length per tensor).
``onnx.load(..., load_external_data=False)`` reads the graph and those
lengths without reading the weights.

For the roofline (:mod:`course.runtimes.roofline`) the question is which
initializers one token reads whole. A matrix multiplication (``MatMulNBits``:
4-bit weights with a float scale per 32) reads all of its weights; a lookup
(``Gather``, ``GatherBlockQuantized``) reads one row. The int4 SmolLM2 that
``course models prepare`` builds looks its embeddings up in the output
projection's own quantized table (tied, as in the GGUF file), and that table
is also multiplied whole by ``MatMulNBits``: so every byte is read.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

LOOKUPS = {"Gather", "GatherBlockQuantized"}
ELEMENT_BYTES = {1: 4, 2: 1, 3: 1, 5: 2, 6: 4, 7: 8, 10: 2, 11: 8, 16: 2}  # onnx.TensorProto data types


def initializer_bytes(init) -> int:
    """The bytes an initializer occupies: its external data's length, or its own data."""
    external = {e.key: e.value for e in init.external_data}
    if "length" in external:
        return int(external["length"])
    if init.raw_data:
        return len(init.raw_data)
    count = 1
    for d in init.dims:
        count *= d
    return count * ELEMENT_BYTES.get(init.data_type, 4)


def onnx_tensor_table(path: str | Path) -> dict[str, tuple[int, int]]:
    """``{initializer: (bytes one token reads, rows)}``: all of it, or one row when only lookups use it."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    users: dict[str, set[str]] = defaultdict(set)
    for node in model.graph.node:
        for name in node.input:
            users[name].add(node.op_type)
    table = {}
    for init in model.graph.initializer:
        size = initializer_bytes(init)
        rows = int(init.dims[0]) if init.dims else 1
        only_looked_up = bool(users[init.name]) and users[init.name] <= LOOKUPS
        table[init.name] = (size // rows if only_looked_up and rows else size, rows)
    return table


__all__ = ["initializer_bytes", "onnx_tensor_table"]
