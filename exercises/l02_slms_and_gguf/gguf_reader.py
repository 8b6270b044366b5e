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
    # YOUR CODE HERE: exercise l02.1, Read a GGUF header by hand
    raise NotImplementedError("exercise l02.1: read lessons/l02_slms_and_gguf/index.md#the-header, then run `course check l02`")


def read_string(data: bytes, offset: int) -> tuple:
    """Read a GGUF string at ``offset``: return ``(text, offset just after it)``.

    Raise ``ValueError`` when the length or the bytes run past the end of ``data``.
    """
    # YOUR CODE HERE: exercise l02.1, Read a GGUF header by hand
    raise NotImplementedError("exercise l02.1: read lessons/l02_slms_and_gguf/index.md#the-header, then run `course check l02`")


def read_metadata(data: bytes) -> dict:
    """All metadata key-value pairs of the GGUF file that starts ``data``, as a dict.

    Scalars become Python ints, floats and bools, strings become ``str``,
    arrays become lists (of any element type, arrays of arrays included).
    ``data`` holds at least the header and the metadata; it may go on.
    """
    # YOUR CODE HERE: exercise l02.2, Read the metadata
    raise NotImplementedError("exercise l02.2: read lessons/l02_slms_and_gguf/index.md#the-metadata, then run `course check l02`")
