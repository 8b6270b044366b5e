"""GGUF, read from the bytes up: the course's own reader of a model file's header.

A GGUF file (all integers little-endian) is:

1. the magic ``b"GGUF"``, a ``uint32`` version (2 or 3), a ``uint64`` tensor
   count and a ``uint64`` count of metadata key-value pairs;
2. the key-value pairs: a key (a string: ``uint64`` length, UTF-8 bytes), a
   ``uint32`` value type, the value (an array is a ``uint32`` element type, a
   ``uint64`` count and the elements);
3. one tensor info per tensor: name, ``uint32`` number of dimensions, that
   many ``uint64`` dimensions, ``uint32`` quantization type, ``uint64`` offset
   of its data relative to the data section;
4. padding to ``general.alignment`` (32 when the key is absent), then the
   tensor data, each tensor starting at an aligned offset.

:func:`read_gguf` reads parts 1-3 with nothing but :mod:`struct` and stops
before the tensor data (it never reads the weights themselves). Every
problem (a truncated file, a wrong magic number, an unknown version or type)
is a :class:`GGUFError` that says where it happened and what to do.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)
DEFAULT_ALIGNMENT = 32

# Metadata value types: name, struct format (None: not a fixed-size scalar).
VALUE_TYPES: dict[int, tuple[str, str | None]] = {
    0: ("UINT8", "<B"), 1: ("INT8", "<b"), 2: ("UINT16", "<H"), 3: ("INT16", "<h"),
    4: ("UINT32", "<I"), 5: ("INT32", "<i"), 6: ("FLOAT32", "<f"), 7: ("BOOL", "<?"),
    8: ("STRING", None), 9: ("ARRAY", None), 10: ("UINT64", "<Q"), 11: ("INT64", "<q"),
    12: ("FLOAT64", "<d"),
}

# ggml tensor types: name, elements per block, bytes per block.
TENSOR_TYPES: dict[int, tuple[str, int, int]] = {
    0: ("F32", 1, 4), 1: ("F16", 1, 2), 2: ("Q4_0", 32, 18), 3: ("Q4_1", 32, 20),
    6: ("Q5_0", 32, 22), 7: ("Q5_1", 32, 24), 8: ("Q8_0", 32, 34), 9: ("Q8_1", 32, 36),
    10: ("Q2_K", 256, 84), 11: ("Q3_K", 256, 110), 12: ("Q4_K", 256, 144), 13: ("Q5_K", 256, 176),
    14: ("Q6_K", 256, 210), 15: ("Q8_K", 256, 292), 16: ("IQ2_XXS", 256, 66), 17: ("IQ2_XS", 256, 74),
    18: ("IQ3_XXS", 256, 98), 19: ("IQ1_S", 256, 50), 20: ("IQ4_NL", 32, 18), 21: ("IQ3_S", 256, 110),
    22: ("IQ2_S", 256, 82), 23: ("IQ4_XS", 256, 136), 24: ("I8", 1, 1), 25: ("I16", 1, 2),
    26: ("I32", 1, 4), 27: ("I64", 1, 8), 28: ("F64", 1, 8), 29: ("IQ1_M", 256, 56), 30: ("BF16", 1, 2),
    34: ("TQ1_0", 256, 54), 35: ("TQ2_0", 256, 66),
}


class GGUFError(ValueError):
    """The file is not a GGUF file this reader can read; the message says where and what to do."""


@dataclass(frozen=True)
class TensorInfo:
    name: str
    shape: tuple[int, ...]  # as stored: the fastest-varying dimension first
    type_id: int
    offset: int  # of the data, from the start of the data section

    @property
    def type_name(self) -> str:
        return TENSOR_TYPES[self.type_id][0]

    @property
    def n_elements(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def n_bytes(self) -> int:
        _, block, size = TENSOR_TYPES[self.type_id]
        return self.n_elements // block * size


@dataclass
class GGUFFile:
    path: Path
    version: int
    metadata: dict[str, Any]
    value_types: dict[str, str]  # key -> "UINT32", "STRING", "ARRAY[STRING]", ...
    tensors: list[TensorInfo]
    alignment: int
    data_offset: int  # where the data section starts
    file_size: int = 0
    header_size: int = field(default=0)  # bytes before the data section, padding included
    infos_end: int = 0  # where the tensor infos end, before the padding to the alignment

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", "unknown"))

    def arch_value(self, key: str, default: Any = None) -> Any:
        """``<architecture>.<key>``, as in ``llama.context_length``."""
        return self.metadata.get(f"{self.architecture}.{key}", default)

    @property
    def parameter_count(self) -> int:
        return sum(t.n_elements for t in self.tensors)

    def tensor(self, name: str) -> TensorInfo:
        for t in self.tensors:
            if t.name == name:
                return t
        raise KeyError(f"{self.path.name} has no tensor {name!r}; it has {len(self.tensors)}, "
                       f"for example {', '.join(t.name for t in self.tensors[:3])}")

    def tensor_data(self, t: TensorInfo | str):
        """A tensor's raw bytes as a read-only uint8 array of shape (rows, bytes per row), memory-mapped."""
        import numpy as np

        if isinstance(t, str):
            t = self.tensor(t)
        _, block, size = TENSOR_TYPES[t.type_id]
        row_bytes = t.shape[0] // block * size
        data = np.memmap(self.path, dtype=np.uint8, mode="r", offset=self.data_offset + t.offset, shape=(t.n_bytes,))
        return data.reshape(-1, row_bytes)


class _Cursor:
    """Reads little-endian values from a file, knowing where it is, for error messages."""

    def __init__(self, f: BinaryIO, size: int, path: Path):
        self.f, self.size, self.path = f, size, path

    @property
    def pos(self) -> int:
        return self.f.tell()

    def read(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > self.size:
            raise GGUFError(
                f"{self.path}: the file ends at byte {self.size:,} while reading {what} "
                f"(needs {n:,} bytes from byte {self.pos:,}): it is truncated or not a GGUF file. "
                "Re-install the package that ships it, or download it again")
        return self.f.read(n)

    def unpack(self, fmt: str, what: str):
        return struct.unpack(fmt, self.read(struct.calcsize(fmt), what))[0]

    def string(self, what: str) -> str:
        length = self.unpack("<Q", f"the length of {what}")
        raw = self.read(length, what)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise GGUFError(f"{self.path}: {what} at byte {self.pos - length:,} is not UTF-8: {exc}") from None

    def value(self, type_id: int, what: str) -> tuple[Any, str]:
        if type_id not in VALUE_TYPES:
            raise GGUFError(f"{self.path}: {what} has value type {type_id}, which GGUF does not define "
                            f"(known: {sorted(VALUE_TYPES)}): the file is corrupt or from a newer GGUF")
        name, fmt = VALUE_TYPES[type_id]
        if fmt is not None:
            return self.unpack(fmt, what), name
        if name == "STRING":
            return self.string(what), name
        elem_type = self.unpack("<I", f"the element type of {what}")
        count = self.unpack("<Q", f"the length of {what}")
        if elem_type in VALUE_TYPES and VALUE_TYPES[elem_type][1] is not None:  # fixed-size: one read
            fmt1 = VALUE_TYPES[elem_type][1]
            raw = self.read(count * struct.calcsize(fmt1), what)
            items = list(struct.unpack(f"<{count}{fmt1[1]}", raw))
            return items, f"ARRAY[{VALUE_TYPES[elem_type][0]}]"
        items = [self.value(elem_type, f"element {i} of {what}")[0] for i in range(count)]
        return items, f"ARRAY[{VALUE_TYPES.get(elem_type, ('?',))[0]}]"


def read_gguf(path: str | Path) -> GGUFFile:
    """Read the header, metadata and tensor infos of a GGUF file (not the tensor data)."""
    path = Path(path)
    if not path.is_file():
        raise GGUFError(f"{path} is not a file")
    size = path.stat().st_size
    with path.open("rb") as f:
        c = _Cursor(f, size, path)
        magic = c.read(4, "the magic number")
        if magic != MAGIC:
            raise GGUFError(f"{path} starts with {magic!r}, not {MAGIC!r}: it is not a GGUF file "
                            "(a PyTorch or safetensors checkpoint must be converted with llama.cpp first)")
        version = c.unpack("<I", "the version")
        if version not in SUPPORTED_VERSIONS:
            raise GGUFError(f"{path} is GGUF version {version}; this reader knows versions "
                            f"{', '.join(map(str, SUPPORTED_VERSIONS))}. Convert it again with a current llama.cpp")
        n_tensors = c.unpack("<Q", "the tensor count")
        n_kv = c.unpack("<Q", "the metadata count")
        metadata, types = {}, {}
        for i in range(n_kv):
            key = c.string(f"the key of metadata pair {i}")
            type_id = c.unpack("<I", f"the value type of {key!r}")
            metadata[key], types[key] = c.value(type_id, repr(key))
        tensors = []
        for i in range(n_tensors):
            name = c.string(f"the name of tensor {i}")
            n_dims = c.unpack("<I", f"the dimension count of {name!r}")
            if n_dims > 8:
                raise GGUFError(f"{path}: tensor {name!r} claims {n_dims} dimensions: the file is corrupt")
            shape = tuple(c.unpack("<Q", f"dimension {d} of {name!r}") for d in range(n_dims))
            type_id = c.unpack("<I", f"the type of {name!r}")
            if type_id not in TENSOR_TYPES:
                raise GGUFError(f"{path}: tensor {name!r} has type {type_id}, unknown to this reader")
            offset = c.unpack("<Q", f"the data offset of {name!r}")
            tensors.append(TensorInfo(name, shape, type_id, offset))
        alignment = int(metadata.get("general.alignment", DEFAULT_ALIGNMENT))
        if alignment <= 0 or alignment & (alignment - 1):
            raise GGUFError(f"{path}: general.alignment is {alignment}, not a power of two")
        header_end = c.pos
    data_offset = -(-header_end // alignment) * alignment  # round up to the alignment
    info = GGUFFile(path, version, metadata, types, tensors, alignment, data_offset, size, data_offset, header_end)
    for t in tensors:
        if t.offset % alignment:
            raise GGUFError(f"{path}: tensor {t.name!r} starts at offset {t.offset}, not a multiple of {alignment}")
        if data_offset + t.offset + t.n_bytes > size:
            raise GGUFError(f"{path}: tensor {t.name!r} ends at byte {data_offset + t.offset + t.n_bytes:,}, past "
                            f"the end of the file ({size:,} bytes): the file is truncated. Re-install or download it again")
    return info
