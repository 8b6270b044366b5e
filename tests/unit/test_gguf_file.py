"""The course's GGUF reader agrees with gguf.GGUFReader on every shipped model, and fails clearly on bad files."""

import json
import struct
import subprocess
import sys

import pytest
from gguf import GGUFReader
from hypothesis import given, settings
from hypothesis import strategies as st

from course.formats import GGUFError, read_gguf, summarize
from course.models import model_path

from conftest import ROOT

MODELS = ["smollm2-135m", "qwen2.5-coder-0.5b", "gemma3-270m"]


@pytest.fixture(scope="module")
def header_bytes():
    """The first bytes of SmolLM2's file: its whole header, plus one tensor's worth of data."""
    g = read_gguf(model_path("smollm2-135m"))
    with open(g.path, "rb") as f:
        return f.read(g.data_offset + 4096), g


@pytest.mark.parametrize("alias", MODELS)
def test_reader_agrees_with_gguf_reader(model_file, alias):
    path = model_file(alias)
    mine, ref = read_gguf(path), GGUFReader(path)
    assert mine.data_offset == ref.data_offset
    assert [(t.name, t.shape, t.type_id, mine.data_offset + t.offset) for t in mine.tensors] == [
        (t.name, tuple(int(d) for d in t.shape), int(t.tensor_type), int(t.data_offset)) for t in ref.tensors]
    ref_fields = {f.name: f.contents() for f in ref.fields.values() if not f.name.startswith("GGUF.")}
    assert mine.metadata == ref_fields
    assert sum(t.n_bytes for t in mine.tensors) == sum(int(t.n_bytes) for t in ref.tensors)


def test_summary_of_smollm2():
    info = summarize(read_gguf(model_path("smollm2-135m")))
    assert info["architecture"] == "llama" and info["layers"] == 30 and info["kv_heads"] == 3
    assert info["chat_template"] and info["vocabulary"] == 49152
    assert abs(sum(t["share_of_file"] for t in info["tensor_types"]) + info["header_bytes"] / info["file_bytes"] - 1) < 1e-3
    assert not summarize(read_gguf(model_path("gemma3-270m")))["chat_template"]


def _write(tmp_path, data: bytes):
    path = tmp_path / "model.gguf"
    path.write_bytes(data)
    return path


@settings(max_examples=40, deadline=None)
@given(cut=st.integers(0, 10**9))
def test_a_truncated_file_is_a_clear_error(tmp_path_factory, header_bytes, cut):
    data, g = header_bytes
    cut = cut % (g.data_offset + 1)  # anywhere in the header, or just after it (no tensor data at all)
    path = _write(tmp_path_factory.mktemp("cut"), data[:cut])
    with pytest.raises(GGUFError, match="truncated|not a GGUF file"):
        read_gguf(path)


def test_wrong_magic_and_version_and_types(tmp_path, header_bytes):
    data, _ = header_bytes
    with pytest.raises(GGUFError, match="not a GGUF file.*converted"):
        read_gguf(_write(tmp_path, b"PK\x03\x04" + data[4:]))
    with pytest.raises(GGUFError, match="version 7"):
        read_gguf(_write(tmp_path, data[:4] + struct.pack("<I", 7) + data[8:]))
    # The first key's value type sits after magic, version, two counts and the key itself.
    key_len = struct.unpack_from("<Q", data, 24)[0]
    at = 32 + key_len
    with pytest.raises(GGUFError, match="value type 99"):
        read_gguf(_write(tmp_path, data[:at] + struct.pack("<I", 99) + data[at + 4:]))
    with pytest.raises(GGUFError, match="not a file"):
        read_gguf(tmp_path / "missing.gguf")


def _course(*args):
    return subprocess.run([sys.executable, "-m", "course", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_inspect_command(tmp_path, header_bytes):
    proc = _course("inspect", "smollm2-135m", "--json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["parameters"] == 134_515_008 and info["tensor_types"][0]["type"] == "Q4_1"
    table = _course("inspect", str(model_path("smollm2-135m")))
    assert table.returncode == 0 and "Where the bytes go" in table.stdout and "Q8_0" in table.stdout
    data, _ = header_bytes
    bad = _course("inspect", str(_write(tmp_path, data[:1000])))
    assert bad.returncode == 2 and "truncated" in bad.stderr and "Traceback" not in bad.stderr
    unknown = _course("inspect", "smollm3")
    assert unknown.returncode == 2 and "Traceback" not in unknown.stderr
