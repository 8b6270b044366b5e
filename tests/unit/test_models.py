"""The model registry: aliases, verified files, and errors that name the fix."""

import dataclasses

import pytest

from course.models import (
    MODELS,
    ModelFileError,
    ModelNotInstalledError,
    UnknownModelError,
    get_model,
    model_path,
    model_status,
)
from course.models import registry


def test_unknown_alias_suggests_the_close_one():
    with pytest.raises(UnknownModelError, match="Did you mean 'smollm2-135m'"):
        get_model("smollm2")


@pytest.mark.parametrize("alias", list(MODELS))
def test_installed_models_are_verified_gguf_files(alias):
    path = model_path(alias)
    assert path.stat().st_size == MODELS[alias].size_bytes
    assert path.read_bytes()[:4] == b"GGUF"
    from course.formats import read_gguf

    assert read_gguf(path).architecture == MODELS[alias].architecture  # what /api/tags calls the family


def _fake_package(tmp_path, monkeypatch, name, files):
    pkg = tmp_path / name
    (pkg / "data").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    for rel, data in files.items():
        (pkg / rel).write_bytes(data)
    monkeypatch.syspath_prepend(str(tmp_path))
    return pkg


def _entry(alias, parts, size, sha=""):
    return dataclasses.replace(MODELS["smollm2-135m"], alias=alias, parts=parts, size_bytes=size, sha256=sha,
                               install=f"pip install {parts[0].distribution}", filename=f"{alias}.gguf")


def test_missing_package_names_the_install(monkeypatch):
    entry = _entry("ghost", (registry.FilePart("no_such_pkg_xyz", "m.gguf", "no-such-pkg"),), 10)
    monkeypatch.setitem(MODELS, "ghost", entry)
    with pytest.raises(ModelNotInstalledError, match="pip install no-such-pkg"):
        model_path("ghost")
    assert "pip install no-such-pkg" in model_status("ghost").problem


def test_truncated_file_is_reported(tmp_path, monkeypatch):
    _fake_package(tmp_path, monkeypatch, "trunc_pkg", {"data/m.gguf": b"GGUF" + b"\0" * 10})
    entry = _entry("trunc", (registry.FilePart("trunc_pkg", "data/m.gguf", "trunc-pkg"),), 1000)
    monkeypatch.setitem(MODELS, "trunc", entry)
    with pytest.raises(ModelFileError, match="truncated.*pip install --force-reinstall trunc-pkg"):
        model_path("trunc")


def test_wrong_magic_is_reported(tmp_path, monkeypatch):
    _fake_package(tmp_path, monkeypatch, "magic_pkg", {"data/m.gguf": b"PK\x03\x04" + b"\0" * 6})
    entry = _entry("magic", (registry.FilePart("magic_pkg", "data/m.gguf", "magic-pkg"),), 10)
    monkeypatch.setitem(MODELS, "magic", entry)
    with pytest.raises(ModelFileError, match="not a GGUF file"):
        model_path("magic")


def test_chunks_are_joined_once_and_checked(tmp_path, monkeypatch):
    import hashlib

    data = b"GGUF" + bytes(range(256)) * 4
    half = len(data) // 2
    _fake_package(tmp_path, monkeypatch, "chunk_a", {"data/p0": data[:half]})
    _fake_package(tmp_path, monkeypatch, "chunk_b", {"data/p1": data[half:]})
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path / "cache"))
    parts = (registry.FilePart("chunk_a", "data/p0", "chunk-a"), registry.FilePart("chunk_b", "data/p1", "chunk-b"))
    good = _entry("joined", parts, len(data), hashlib.sha256(data).hexdigest())
    monkeypatch.setitem(MODELS, "joined", good)
    path = model_path("joined")
    assert path.read_bytes() == data and path.parent == tmp_path / "cache" / "models"
    # a damaged cache copy is rebuilt from the packages, not trusted
    path.write_bytes(b"GGUF" + b"x" * (len(data) - 4))
    assert model_path("joined").read_bytes() == data
    # a damaged chunk package fails the sha256 check with the reinstall command
    monkeypatch.setitem(MODELS, "joined", dataclasses.replace(good, sha256="0" * 64))
    path.unlink()
    with pytest.raises(ModelFileError, match="pip install --force-reinstall chunk-a chunk-b"):
        model_path("joined")
    assert not path.exists(), "no half-written file may be left behind"


def test_a_form_that_cannot_be_made_here_says_what_to_install(tmp_path, monkeypatch):
    from course.models import forms

    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))
    with pytest.raises(forms.PrepareError, match="unknown form 'safetensors'; the forms are gguf, hf, onnx"):
        forms.prepare("smollm2-135m", "safetensors")
    assert forms.prepare("smollm2-135m", "gguf").folder == forms.model_path("smollm2-135m")
    monkeypatch.setattr(forms.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(forms.PrepareError, match=r'needs torch, transformers, gguf: pip install -e "\.\[foundry-prepare\]"'):
        forms.prepare("smollm2-135m", "hf")
    assert not (tmp_path / "forms").exists()  # nothing half made
