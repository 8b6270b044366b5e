"""Hidden tests of lesson 02: cases the public tests do not show."""

import struct

import pytest


def test_read_string_rejects_a_length_past_the_end(target):
    """A string whose length runs past the data is a ValueError, not a short string."""
    with pytest.raises(ValueError):
        target.load("gguf_reader").read_string(struct.pack("<Q", 10) + b"abc", 0)
    with pytest.raises(ValueError):
        target.load("gguf_reader").read_string(b"\x01\x00", 0)


def test_read_metadata_reads_nested_arrays(target):
    """An array of arrays of uint8 (GGUF allows it; few files use it)."""
    inner = lambda items: struct.pack("<IQ", 0, len(items)) + bytes(items)  # noqa: E731
    value = struct.pack("<IQ", 9, 2) + inner([1, 2]) + inner([3])
    key = b"a.b"
    data = b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", len(key)) + key + struct.pack("<I", 9) + value
    assert target.load("gguf_reader").read_metadata(data) == {"a.b": [[1, 2], [3]]}


def test_align_keeps_aligned_offsets_and_rejects_bad_alignments(target):
    align = target.load("tensor_sizes").align
    assert align(0, 32) == 0 and align(64, 32) == 64 and align(65, 32) == 96
    for bad in (0, 3, -32):
        with pytest.raises(ValueError):
            align(10, bad)


def test_kv_cache_rejects_unknown_cache_types(target):
    with pytest.raises(ValueError):
        target.load("memory_math").kv_cache_bytes(1, 1, 64, 512, "q3_k")
