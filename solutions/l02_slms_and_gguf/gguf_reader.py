"""Exercises l02.1 and l02.2: read a GGUF file's header and metadata from raw bytes.

A GGUF file starts with a fixed header (all integers little-endian):

====== ======== ===========================================
offset size     field
====== ======== ===========================================
0      4        magic: the bytes ``b"GGUF"``
4      4        version: ``uint32`` (2 or 3 today)
8      8        tensor count: ``uint64``
16     8        metadata count: ``uint64``
====== ======== ===========================================

Then come the metadata key-value pairs, one after the other: a key (a
string), a ``uint32`` value type, and the value. A string is a ``uint64``
length followed by that many UTF-8 bytes. :data:`SCALARS` gives the
``struct`` format of each fixed-size type; type 8 is a string and type 9 an
array (a ``uint32`` element type, a ``uint64`` count, then the elements).

Use :mod:`struct`: ``struct.unpack_from("<I", data, offset)`` reads a
little-endian ``uint32`` at ``offset`` without slicing.
"""

import struct

MAGIC = b"GGUF"
HEADER_SIZE = 24
STRING, ARRAY = 8, 9
# value type -> struct format of the fixed-size types
SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


def read_header(data: bytes) -> dict:
    """The header at the start of ``data`` as ``{"version": int, "n_tensors": int, "n_kv": int}``.

    Raise ``ValueError`` with a clear message when ``data`` is shorter than the
    24-byte header, does not start with ``b"GGUF"``, or has a version other
    than 2 or 3.
    """
    ### BEGIN SOLUTION
    if len(data) < HEADER_SIZE:
        raise ValueError(f"a GGUF header is {HEADER_SIZE} bytes; got only {len(data)}: the file is truncated")
    if data[:4] != MAGIC:
        raise ValueError(f"not a GGUF file: it starts with {bytes(data[:4])!r}, not {MAGIC!r}")
    version, n_tensors, n_kv = struct.unpack_from("<IQQ", data, 4)
    if version not in (2, 3):
        raise ValueError(f"GGUF version {version} is not supported (only 2 and 3)")
    return {"version": version, "n_tensors": n_tensors, "n_kv": n_kv}
    ### END SOLUTION


def read_string(data: bytes, offset: int) -> tuple:
    """Read a GGUF string at ``offset``: return ``(text, offset just after it)``.

    Raise ``ValueError`` when the length or the bytes run past the end of ``data``.
    """
    ### BEGIN SOLUTION
    if offset + 8 > len(data):
        raise ValueError(f"the length of a string at byte {offset} runs past the end of the data ({len(data)} bytes)")
    (length,) = struct.unpack_from("<Q", data, offset)
    start, end = offset + 8, offset + 8 + length
    if end > len(data):
        raise ValueError(f"a string of {length} bytes at byte {start} runs past the end of the data ({len(data)} bytes)")
    return bytes(data[start:end]).decode("utf-8"), end
    ### END SOLUTION


def read_metadata(data: bytes) -> dict:
    """All metadata key-value pairs of the GGUF file that starts ``data``, as a dict.

    Scalars become Python ints, floats and bools, strings become ``str``,
    arrays become lists (of any element type, arrays of arrays included).
    ``data`` holds at least the header and the metadata; it may go on.
    """
    ### BEGIN SOLUTION
    header = read_header(data)
    offset = HEADER_SIZE

    def value(type_id, offset):
        if type_id in SCALARS:
            fmt = SCALARS[type_id]
            size = struct.calcsize(fmt)
            if offset + size > len(data):
                raise ValueError(f"a value at byte {offset} runs past the end of the data")
            return struct.unpack_from(fmt, data, offset)[0], offset + size
        if type_id == STRING:
            return read_string(data, offset)
        if type_id == ARRAY:
            elem_type, count = struct.unpack_from("<IQ", data, offset)
            offset += 12
            items = []
            for _ in range(count):
                item, offset = value(elem_type, offset)
                items.append(item)
            return items, offset
        raise ValueError(f"unknown value type {type_id} at byte {offset}")

    metadata = {}
    for _ in range(header["n_kv"]):
        key, offset = read_string(data, offset)
        (type_id,) = struct.unpack_from("<I", data, offset)
        metadata[key], offset = value(type_id, offset + 4)
    return metadata
    ### END SOLUTION
