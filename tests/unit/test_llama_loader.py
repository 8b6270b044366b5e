"""The one llama.cpp factory and its decision about extra buffer types (AMX crashes; issue 16).

The decision is tested from given CPU facts, so these tests mean the same on a
machine with AMX and one without; the real-model tests below and everywhere
else in the suite are the proof on whichever kind of machine runs them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from course.backends import llama_loader
from course.backends.llama_loader import (AMX_FLAGS, EXTRA_BUFTS_ENV, cpu_flags, decide_extra_bufts,
                                          extra_bufts_decision, llama_has_amx, new_llama, parse_override)
from course.backends.types import BackendUnavailableError
from course.formats.memory import llama_cpp_report

ROOT = Path(__file__).resolve().parents[2]
SAPPHIRE_RAPIDS = "fpu vme sse4_2 avx512f avx512_vnni amx_bf16 avx512_fp16 amx_tile amx_int8 arch_lbr".split()
ZEN4 = "fpu vme sse4_2 avx2 avx512f avx512_vnni avx512_bf16".split()


# --- the decision, from given facts -------------------------------------------------------------

@pytest.mark.parametrize("flags,llama_amx,override,use", [
    (ZEN4, False, None, True),             # no AMX: llama.cpp's defaults, nothing changes
    (ZEN4, None, None, True),
    (SAPPHIRE_RAPIDS, True, None, False),  # AMX and an AMX build: the crash, so off
    (SAPPHIRE_RAPIDS, None, None, False),  # AMX and a build that does not say: the safe choice
    (SAPPHIRE_RAPIDS, False, None, True),  # AMX but no AMX kernels built: nothing to crash
    (SAPPHIRE_RAPIDS, True, "on", True),   # someone who knows better
    (ZEN4, False, "off", False),
    (SAPPHIRE_RAPIDS, True, "auto", False),
    (SAPPHIRE_RAPIDS, True, " OFF ", False),
    ([], None, "", True),
])
def test_decision_from_cpu_facts(flags, llama_amx, override, use):
    d = decide_extra_bufts(flags, llama_amx, override)
    assert d.use_extra_bufts is use
    assert d.cpu_amx == tuple(f for f in AMX_FLAGS if f in flags)
    assert d.override == (override.strip().lower() if override and override.strip().lower() != "auto" else None)


@given(st.sets(st.sampled_from(SAPPHIRE_RAPIDS + ZEN4)), st.sampled_from([True, False, None]),
       st.sampled_from([None, "auto", "on", "off"]))
def test_off_only_where_the_amx_path_would_run_unless_forced(flags, llama_amx, override):
    d = decide_extra_bufts(flags, llama_amx, override)
    if override in ("on", "off"):
        assert d.use_extra_bufts is (override == "on")
    else:
        would_run_amx = any(f in flags for f in AMX_FLAGS) and llama_amx is not False
        assert d.use_extra_bufts is not would_run_amx


def test_a_bad_override_says_what_to_set():
    with pytest.raises(BackendUnavailableError, match=f"{EXTRA_BUFTS_ENV}='yes' is not one of auto, on, off"):
        parse_override("yes")
    assert parse_override(None) is None and parse_override("Auto") is None


def test_summary_names_the_cpu_the_choice_and_the_override():
    off = decide_extra_bufts(SAPPHIRE_RAPIDS, True).summary()
    assert "CPU advertises AMX (amx_tile amx_int8 amx_bf16)" in off
    assert "extra buffer types off" in off and "20824" in off and f"{EXTRA_BUFTS_ENV}=on|off" in off
    on = decide_extra_bufts(ZEN4, None).summary()
    assert on.startswith("CPU without AMX") and "extra buffer types on" in on
    assert "forced on" in decide_extra_bufts(SAPPHIRE_RAPIDS, True, "on").summary()


def test_cpu_flags_and_llama_build_are_read_from_their_texts(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: " + " ".join(SAPPHIRE_RAPIDS) + "\nbugs\t\t: spectre_v1\n"
                    "processor\t: 1\nflags\t\t: " + " ".join(SAPPHIRE_RAPIDS) + "\n")
    assert {"amx_tile", "amx_int8", "amx_bf16"} <= cpu_flags(info)
    assert cpu_flags(tmp_path / "missing") == set()
    assert llama_has_amx("CPU : SSE3 = 1 | AVX512 = 1 | AMX_INT8 = 1 | LLAMAFILE = 1 |") is True
    assert llama_has_amx("CPU : SSE3 = 1 | AVX512 = 1 | AMX_INT8 = 0 |") is False
    assert llama_has_amx("CPU : SSE3 = 1 | AVX512 = 1 |") is None


def test_this_machines_decision_follows_the_environment(monkeypatch):
    monkeypatch.setenv(EXTRA_BUFTS_ENV, "off")
    assert extra_bufts_decision(fresh=True).use_extra_bufts is False
    monkeypatch.setenv(EXTRA_BUFTS_ENV, "on")
    assert extra_bufts_decision(fresh=True).use_extra_bufts is True
    monkeypatch.delenv(EXTRA_BUFTS_ENV)
    auto = extra_bufts_decision(fresh=True)
    assert auto.use_extra_bufts is not (bool(auto.cpu_amx) and auto.llama_amx is not False)


# --- one factory --------------------------------------------------------------------------------

# Ways to make a llama.cpp model that would skip the decision.
_OTHER_WAYS = re.compile(r"\bLlama\s*\(|Llama\.from_pretrained|llama_model_load_from_file|LlamaModel\s*\("
                         r"|-m\W+llama_cpp\.server|run_module\(\W*llama_cpp\.server")
_FACTORY = ROOT / "course" / "backends" / "llama_loader.py"
_SERVER = ROOT / "course" / "backends" / "llama_server.py"


def _sources():
    for folder in ("course", "solutions", "exercises", "lessons", "autograder", "tests"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix in (".py", ".md", ".ipynb") and path not in (_FACTORY, _SERVER) \
                    and path != Path(__file__).resolve():
                yield path


def test_every_llama_cpp_model_comes_from_the_one_factory():
    offenders = []
    for path in _sources():
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if _OTHER_WAYS.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, ("create llama.cpp models with course.backends.llama_loader.new_llama (or run "
                           "`python -m course.backends.llama_server`), which applies the extra-buffer decision:\n"
                           + "\n".join(offenders))


def test_the_rule_catches_what_it_is_for():
    for line in ('llm = Llama(path, n_ctx=512)', 'llama_cpp.Llama(model_path=p)', 'Llama.from_pretrained("x")',
                 '[sys.executable, "-m", "llama_cpp.server", "--model", f]', "python -m llama_cpp.server --model m"):
        assert _OTHER_WAYS.search(line), line
    for line in ("class LlamaCppBackend(ChatBackend):", "LlamaCppEmbedder(model)", "import llama_cpp.server  # x",
                 "backend = LlamaCppBackend(model)"):
        assert not _OTHER_WAYS.search(line), line


def test_the_patch_is_gone_after_a_load_even_a_failed_one(tmp_path):
    import llama_cpp

    original = llama_cpp.llama_cpp.llama_model_default_params
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(Exception, match="could not load"):
        new_llama(bad, n_ctx=256)
    assert llama_cpp.llama_cpp.llama_model_default_params is original
    with llama_loader._model_defaults(False):
        assert llama_cpp.llama_cpp.llama_model_default_params().use_extra_bufts is False
    assert llama_cpp.llama_cpp.llama_model_default_params is original
    assert original().use_extra_bufts is True  # llama.cpp's own default, untouched


# --- real models: the decision reaches llama.cpp ------------------------------------------------

def test_a_loaded_model_carries_this_machines_decision(model_file):
    llm = new_llama(model_file("smollm2-135m"), n_ctx=256)
    try:
        assert bool(llm.model_params.use_extra_bufts) is extra_bufts_decision().use_extra_bufts
        # a batch of several tokens: where the AMX path crashed
        llm.eval(llm.tokenize(b"The capital of France is"))
    finally:
        llm.close()


@pytest.mark.parametrize("choice", ["off", "on"])
def test_the_override_reaches_llama_cpp_in_a_child(model_file, monkeypatch, choice):
    """Gemma's Q4_K weights are repacked (or put in AMX tiles) when extra buffer types are on, never when off.

    Loading allocates but does not compute, so forcing them on is safe even where AMX would crash.
    """
    monkeypatch.setenv(EXTRA_BUFTS_ENV, choice)
    report = llama_cpp_report(model_file("gemma3-270m"), 256)
    extra = {k: v for k, v in report["model_buffers"].items() if k != "CPU_Mapped"}
    if choice == "off":
        assert extra == {} and report["weights_extra"] == 0
    else:
        assert extra and report["weights_extra"] > 0, report["model_buffers"]


def test_a_process_the_course_does_not_write_gets_the_decision_too():
    """What ``python -m course.backends.llama_server`` does before it runs llama-cpp-python's server."""
    code = ("import json, llama_cpp; from course.backends.llama_loader import apply_to_process; "
            "d = apply_to_process(); "
            "print(json.dumps([d.use_extra_bufts, llama_cpp.llama_cpp.llama_model_default_params().use_extra_bufts]))")
    for choice, expected in (("off", [False, False]), ("on", [True, True])):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                             env={**os.environ, EXTRA_BUFTS_ENV: choice})
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout) == expected


def test_the_server_launcher_passes_its_arguments_on():
    out = subprocess.run([sys.executable, "-m", "course.backends.llama_server", "--help"], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "--model" in out.stdout and "--chat_format" in out.stdout
