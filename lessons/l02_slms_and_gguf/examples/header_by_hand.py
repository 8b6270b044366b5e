"""The first bytes of a GGUF file, read by hand with struct: magic, version, counts, the first key."""

import struct

from course.models import model_path

path = model_path("smollm2-135m")
with open(path, "rb") as f:
    head = f.read(64)

print("first 24 bytes:", head[:24].hex(" "))
magic = head[:4]
version, n_tensors, n_kv = struct.unpack_from("<IQQ", head, 4)
print(f"magic {magic!r}, version {version}, {n_tensors} tensors, {n_kv} metadata pairs")

# the first metadata pair starts at byte 24: a key (uint64 length + UTF-8), a uint32 type, a value
(key_len,) = struct.unpack_from("<Q", head, 24)
key = head[32:32 + key_len].decode()
(value_type,) = struct.unpack_from("<I", head, 32 + key_len)
print(f"first key: {key!r} ({key_len} bytes), value type {value_type} (8 = string)")
