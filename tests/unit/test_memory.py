"""Memory predictions from a GGUF header agree with what llama.cpp allocates."""

import pytest

from course.formats.memory import (MiB, ModelShape, kv_cache_bytes, llama_cpp_ctx, llama_cpp_report,
                                   parse_llama_log, predict_memory, weights_bytes)


def test_weights_and_kv_formulas():
    assert weights_bytes(1_000_000, 4.5) == 562_500
    # SmolLM2: 30 layers, 3 KV heads of 64, 512 positions, f16: 2*30*3*64*512*2 bytes = 11.25 MiB
    assert kv_cache_bytes(30, 3, 64, 512) == 11.25 * MiB
    assert kv_cache_bytes(30, 3, 64, 512, "q8_0") == 11.25 * MiB * 34 / 64
    assert kv_cache_bytes(30, 3, 64, 0) == 0
    with pytest.raises(ValueError, match="unknown cache type"):
        kv_cache_bytes(1, 1, 1, 1, "q3_k")
    with pytest.raises(ValueError, match="n_ctx must be"):
        kv_cache_bytes(1, 1, 1, -5)
    with pytest.raises(ValueError):
        weights_bytes(10, 0)


def test_llama_cpp_rounds_the_context_to_256():
    assert [llama_cpp_ctx(n) for n in (1, 256, 257, 1000, 4096)] == [256, 256, 512, 1024, 4096]


def test_parse_llama_log_sums_both_caches_of_a_sliding_window_model():
    log = ("llama_context: n_ctx                 = 1024\n"
           "load_tensors:   CPU_Mapped model buffer size =   235.16 MiB\n"
           "load_tensors:   CPU_REPACK model buffer size =    12.66 MiB\n"
           "llama_kv_cache: size =    3.00 MiB (  1024 cells,   3 layers,  1/1 seqs)\n"
           "llama_kv_cache: size =   15.00 MiB (  1024 cells,  15 layers,  1/1 seqs)\n"
           "sched_reserve:        CPU compute buffer size =   514.50 MiB\n")
    assert parse_llama_log(log) == {"n_ctx": 1024, "model_buffers": {"CPU_Mapped": 235.16, "CPU_REPACK": 12.66},
                                    "weights_mapped": 235.16, "weights_extra": 12.66,
                                    "kv_cache": 18.0, "compute": 514.5}


def test_parse_llama_log_keeps_every_model_buffer():
    """An AMX machine with llama.cpp's extra buffer types on: weights in AMX tiles beside the mapped file."""
    log = ("load_tensors:   CPU_Mapped model buffer size =   137.94 MiB\n"
           "load_tensors:          AMX model buffer size =   250.41 MiB\n"
           "load_tensors:   CPU_REPACK model buffer size =    28.12 MiB\n"
           "llama_kv_cache: size =   24.00 MiB (  2048 cells,  24 layers,  1/1 seqs)\n")
    report = parse_llama_log(log)
    assert report["model_buffers"] == {"CPU_Mapped": 137.94, "AMX": 250.41, "CPU_REPACK": 28.12}
    assert report["weights_mapped"] == 137.94 and report["weights_extra"] == pytest.approx(278.53)
    # without mmap llama.cpp reads the file into a plain CPU buffer
    plain = parse_llama_log("load_tensors:          CPU model buffer size =    98.00 MiB\n")
    assert plain["weights_mapped"] == 98.0 and plain["weights_extra"] == 0


@pytest.mark.parametrize("alias,n_ctx,cache", [
    ("smollm2-135m", 512, "f16"), ("smollm2-135m", 1000, "f16"), ("smollm2-135m", 4096, "q8_0"),
    ("qwen2.5-coder-0.5b", 2048, "f16"), ("gemma3-270m", 1024, "f16"),
])
def test_predictions_match_llama_cpp(model_file, alias, n_ctx, cache):
    path = model_file(alias)
    predicted = predict_memory(ModelShape.from_gguf(path), n_ctx, cache).as_mib()
    reported = llama_cpp_report(path, n_ctx, cache)
    assert predicted["n_ctx"] == reported["n_ctx"]
    assert predicted["weights"] == pytest.approx(reported["weights_mapped"], abs=0.01)  # log rounds to 0.01
    assert predicted["kv_cache"] == pytest.approx(reported["kv_cache"], abs=0.01)
    # the logits of one micro-batch are most of the compute buffer, not all of it
    assert reported["compute"] * 0.9 < predicted["compute"] <= reported["compute"]


def test_report_fails_clearly_on_a_broken_file(tmp_path):
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(RuntimeError, match="could not load"):
        llama_cpp_report(bad, 512)
