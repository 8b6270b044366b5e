"""Autograder for lesson 02: SLMs and the GGUF format.

Oracles: the shipped model files read by ``gguf.GGUFReader`` (llama.cpp's own
Python reader) and by the course's reader, files written by ``gguf.GGUFWriter``
with random metadata, ``gguf.GGML_QUANT_SIZES``, and what llama.cpp itself
reports when it allocates a KV cache.
"""

import functools
import struct

import numpy as np
import pytest
from gguf import GGML_QUANT_SIZES, GGMLQuantizationType, GGUFReader, GGUFValueType, GGUFWriter
from hypothesis import given
from hypothesis import strategies as st

from course.formats import read_gguf
from course.formats import memory as ref_memory
from course.models import model_path

SHIPPED = ["smollm2-135m", "gemma3-270m"]  # the models every install has (Qwen is optional)


@functools.lru_cache(maxsize=None)
def oracle(alias: str) -> dict:
    """What llama.cpp's Python reader (gguf.GGUFReader) finds in a shipped file.

    GGUFReader reads Gemma's 262,144-token vocabulary one field at a time (about 20 s here), so
    for Gemma the course's own reader stands in; tests/test_gguf_file.py checks that the two
    agree on every shipped model.
    """
    if alias == "smollm2-135m":
        ref = GGUFReader(model_path(alias))
        return {"metadata": {f.name: f.contents() for f in ref.fields.values() if not f.name.startswith("GGUF.")},
                "tensors": [(t.name, tuple(int(d) for d in t.shape), t.tensor_type.name, int(t.n_bytes))
                            for t in ref.tensors],
                "data_offset": ref.data_offset}
    g = read_gguf(model_path(alias))
    return {"metadata": g.metadata, "tensors": [(t.name, t.shape, t.type_name, t.n_bytes) for t in g.tensors],
            "data_offset": g.data_offset}


def header_bytes(alias: str) -> bytes:
    """The header and metadata of a shipped model (everything before the tensor infos end)."""
    info = read_gguf(model_path(alias))
    with open(info.path, "rb") as f:
        return f.read(info.data_offset)


def gguf_header(version: int, n_tensors: int, n_kv: int) -> bytes:
    return b"GGUF" + struct.pack("<IQQ", version, n_tensors, n_kv)


# --- l02.1 the header --------------------------------------------------------------


@pytest.mark.parametrize("alias", SHIPPED)
def test_read_header_of_shipped_models(target, alias):
    """The header of each shipped model, as llama.cpp's reader sees it."""
    ref = read_gguf(model_path(alias))
    with open(ref.path, "rb") as f:
        got = target.load("gguf_reader").read_header(f.read(24))
    assert got == {"version": ref.version, "n_tensors": len(ref.tensors), "n_kv": len(ref.metadata)}


@given(st.sampled_from([2, 3]), st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1), st.binary(max_size=40))
def test_read_header_of_any_counts(target, version, n_tensors, n_kv, rest):
    """Any counts up to 2**64 - 1, whatever bytes follow the header."""
    got = target.load("gguf_reader").read_header(gguf_header(version, n_tensors, n_kv) + rest)
    assert got == {"version": version, "n_tensors": n_tensors, "n_kv": n_kv}


@pytest.mark.parametrize("data", [
    b"GGUF" + struct.pack("<I", 3),  # truncated
    b"",
    b"GGML" + struct.pack("<IQQ", 3, 1, 1),  # wrong magic
    b"\x89PNG" + bytes(20),
    gguf_header(1, 0, 0),  # unsupported versions
    gguf_header(4, 0, 0),
], ids=["truncated", "empty", "ggml-magic", "png", "version-1", "version-4"])
def test_read_header_rejects_bad_input(target, data):
    """A truncated file, a wrong magic or an unsupported version is a ValueError, never a struct.error."""
    with pytest.raises(ValueError):
        target.load("gguf_reader").read_header(data)


@given(st.text(max_size=50), st.binary(max_size=10), st.binary(max_size=10))
def test_read_string_round_trip(target, text, before, after):
    """A string written as GGUF writes it reads back with the offset just past it."""
    raw = text.encode("utf-8")
    data = before + struct.pack("<Q", len(raw)) + raw + after
    assert target.load("gguf_reader").read_string(data, len(before)) == (text, len(before) + 8 + len(raw))


# --- l02.2 the metadata -----------------------------------------------------------


@pytest.mark.parametrize("alias", SHIPPED)
def test_read_metadata_of_shipped_models(target, alias):
    """Every key and value of the shipped models, as llama.cpp's reader reads them."""
    expected = oracle(alias)["metadata"]
    got = target.load("gguf_reader").read_metadata(header_bytes(alias))
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value) if isinstance(value, float) else got[key] == value, key


keys = st.text(st.characters(min_codepoint=97, max_codepoint=122), min_size=1, max_size=12)
values = st.one_of(
    st.tuples(st.just("uint32"), st.integers(0, 2**32 - 1)),
    st.tuples(st.just("int32"), st.integers(-2**31, 2**31 - 1)),
    st.tuples(st.just("uint64"), st.integers(0, 2**64 - 1)),
    st.tuples(st.just("float32"), st.floats(width=32, allow_nan=False)),
    st.tuples(st.just("bool"), st.booleans()),
    st.tuples(st.just("string"), st.text(max_size=20)),
    st.tuples(st.just("array"), st.lists(st.integers(-2**31, 2**31 - 1), min_size=1, max_size=8)),
    st.tuples(st.just("strings"), st.lists(st.text(max_size=8), min_size=1, max_size=5)),  # the writer refuses []
)


V = GGUFValueType
WRITER_TYPES = {"uint32": (V.UINT32, None), "int32": (V.INT32, None), "uint64": (V.UINT64, None),
                "float32": (V.FLOAT32, None), "bool": (V.BOOL, None), "string": (V.STRING, None),
                "array": (V.ARRAY, V.INT32), "strings": (V.ARRAY, V.STRING)}


@given(st.dictionaries(keys, values, max_size=8))
def test_read_metadata_of_files_gguf_writes(target, tmp_path_factory, pairs):
    """Random metadata written by gguf.GGUFWriter reads back exactly."""
    path = tmp_path_factory.mktemp("gguf") / "random.gguf"
    w = GGUFWriter(path, "llama")  # also writes general.architecture
    expected = {"general.architecture": "llama"}
    for key, (kind, value) in pairs.items():
        key = f"test.{key}"
        vtype, sub = WRITER_TYPES[kind]  # add_key_value writes empty strings and arrays too
        w.add_key_value(key, value, vtype, sub_type=sub)
        expected[key] = value
    w.add_tensor("x", np.zeros(4, dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    got = target.load("gguf_reader").read_metadata(path.read_bytes())
    assert got == expected


# --- l02.3 tensor sizes and alignment -------------------------------------------------


@pytest.mark.parametrize("alias", SHIPPED)
def test_tensor_nbytes_of_every_shipped_tensor(target, alias):
    """Each tensor's size, and their sum, as llama.cpp's reader gives them."""
    tensor_nbytes = target.load("tensor_sizes").tensor_nbytes
    for name, shape, type_name, n_bytes in oracle(alias)["tensors"]:
        assert tensor_nbytes(shape, type_name) == n_bytes, name


TYPES = ["F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"]


@given(st.sampled_from(TYPES), st.integers(1, 64), st.lists(st.integers(1, 9), max_size=3))
def test_tensor_nbytes_of_any_shape(target, type_name, blocks, more):
    """Any shape whose rows are whole blocks, against gguf.GGML_QUANT_SIZES."""
    block, size = GGML_QUANT_SIZES[GGMLQuantizationType[type_name]]
    shape = (blocks * block, *more)
    assert target.load("tensor_sizes").tensor_nbytes(shape, type_name) == int(np.prod(shape)) // block * size


@pytest.mark.parametrize("shape,type_name", [((31,), "Q4_0"), ((255, 2), "Q4_K"), ((576, 3), "Q2_K"),
                                             ((32,), "Q9_9")])
def test_tensor_nbytes_rejects_partial_blocks_and_unknown_types(target, shape, type_name):
    with pytest.raises(ValueError):
        target.load("tensor_sizes").tensor_nbytes(shape, type_name)


@given(st.integers(0, 10**9), st.sampled_from([1, 2, 8, 32, 64, 4096]))
def test_align_is_the_next_multiple(target, offset, alignment):
    got = target.load("tensor_sizes").align(offset, alignment)
    assert got % alignment == 0 and offset <= got < offset + alignment


@pytest.mark.parametrize("alias", SHIPPED)
def test_align_finds_where_the_data_starts(target, alias):
    """Aligning the end of the tensor infos gives the data offset llama.cpp's reader finds."""
    info = read_gguf(model_path(alias))
    assert target.load("tensor_sizes").align(info.infos_end, info.alignment) == oracle(alias)["data_offset"]


# --- l02.4 the KV cache ---------------------------------------------------------------

CACHE = ["f32", "f16", "bf16", "q8_0", "q5_1", "q5_0", "q4_1", "q4_0"]


@given(st.integers(1, 80), st.integers(1, 64), st.sampled_from([32, 64, 80, 96, 128, 256]),
       st.integers(0, 131072), st.sampled_from(CACHE))
def test_kv_cache_bytes_matches_the_reference(target, layers, kv_heads, head_size, n_ctx, cache_type):
    got = target.load("memory_math").kv_cache_bytes(layers, kv_heads, head_size, n_ctx, cache_type)
    assert got == pytest.approx(ref_memory.kv_cache_bytes(layers, kv_heads, head_size, n_ctx, cache_type))


@pytest.mark.real_model
@pytest.mark.parametrize("n_ctx,cache_type", [(1024, "f16"), (2048, "q8_0")])
def test_kv_cache_bytes_matches_llama_cpp(target, n_ctx, cache_type):
    """SmolLM2's cache as llama.cpp allocates it (30 layers, 3 KV heads of 64)."""
    reported = ref_memory.llama_cpp_report(model_path("smollm2-135m"), n_ctx, cache_type)
    got = target.load("memory_math").kv_cache_bytes(30, 3, 64, n_ctx, cache_type)
    assert got / 2**20 == pytest.approx(reported["kv_cache"], abs=0.01)


@given(st.floats(0, 2e10), st.integers(1, 80), st.integers(1, 16), st.sampled_from([64, 128, 256]),
       st.sampled_from(CACHE))
def test_max_context_fits_and_the_next_step_does_not(target, budget, layers, kv_heads, head_size, cache_type):
    mm = target.load("memory_math")
    n = mm.max_context(budget, layers, kv_heads, head_size, cache_type)
    size = lambda ctx: ref_memory.kv_cache_bytes(layers, kv_heads, head_size, ctx, cache_type)  # noqa: E731
    assert n % 256 == 0 and n >= 0
    assert size(n) <= budget < size(n + 256)
