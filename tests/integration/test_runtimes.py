"""Lesson 04 on the real runtimes: MLX's own arrays, the decode loop on the real ONNX model, the benches."""

import numpy as np
import pytest

from extras import require_extra

from course.formats.gguf_file import read_gguf
from course.models import model_path
from course.formats.memory import MiB, ModelShape
from course.runtimes.knobs import Knobs, KnobRow, bench_knobs, measure, predict_buffers
from course.runtimes.mlx_layout import gguf_to_affine


@pytest.fixture(scope="module")
def onnx_folder():
    require_extra("foundry-prepare")
    from course.models.forms import prepare

    return prepare("smollm2-135m", "onnx").folder


@pytest.mark.parametrize("name", ["blk.0.attn_q.weight", "blk.29.ffn_down.weight", "token_embd.weight"])
def test_the_course_rewrites_gguf_blocks_exactly_as_mlx_loads_them(name):
    require_extra("mlx")
    import mlx.core as mx

    path = model_path("smollm2-135m")
    model = read_gguf(path)
    t = model.tensor(name)
    ours = gguf_to_affine(model.tensor_data(t), t.type_name, t.shape[0])
    theirs = mx.load(str(path))
    base = name.removesuffix("weight")
    for mine, part in zip(ours, ("weight", "scales", "biases")):
        got = np.array(theirs[base + part])
        assert mine.dtype == got.dtype and np.array_equal(mine.view(np.uint8), got.view(np.uint8)), part


def test_the_decode_loop_on_the_real_model_is_genais(onnx_folder):
    from course.runtimes.compare import prompt_ids
    from course.runtimes.ort_decode import genai_greedy, genai_head_size, greedy_decode, open_session

    ids = prompt_ids("smollm2-135m")
    theirs, eos = genai_greedy(onnx_folder, ids, 40)
    ours = greedy_decode(open_session(onnx_folder), ids, 40, genai_head_size(onnx_folder), eos)
    assert ours == theirs and len(ours) > 10 and eos == [2]


def test_every_onnx_weight_is_read_per_token_for_tied_smollm2(onnx_folder):
    from course.runtimes.onnx_weights import onnx_tensor_table
    from course.runtimes.roofline import bytes_per_token

    table = onnx_tensor_table(onnx_folder / "model.onnx")
    assert bytes_per_token(table) == (onnx_folder / "model.onnx.data").stat().st_size


def test_bench_runtimes_gives_every_figure_for_two_runtimes(onnx_folder):
    from course.runtimes.compare import bench_runtimes

    r = bench_runtimes(max_tokens=6, repeats=1, runtimes=("llama.cpp", "onnxruntime-genai"))
    rows = {row["runtime"]: row for row in r["rows"]}
    assert set(rows) == {"llama.cpp", "onnxruntime-genai"} and r["bandwidth_gb_s"] > 0
    assert rows["llama.cpp"]["agrees_with_llama_cpp"] == 6
    for row in rows.values():
        assert len(row["tokens"]) == 6 and row["ttft_s"] > 0 and row["decode_tokens_per_s"] > 0
        assert 0 < row["roofline_fraction"] and 80e6 < row["bytes_per_token"] < 110e6


def test_knobs_are_measured_in_a_child_and_refusals_are_reported():
    path = str(model_path("smollm2-135m"))
    knobs = Knobs(n_ctx=512, n_ubatch=64)
    got = measure(path, knobs, n_prompt=32, n_gen=4)
    predicted = predict_buffers(ModelShape.from_gguf(path), knobs)
    assert got["kv_cache_mib"] == pytest.approx(11.25) == predicted["kv_cache"] / MiB
    assert predicted["compute"] / MiB <= got["compute_mib"] <= predicted["compute"] / MiB + 4
    assert got["gen_tokens_per_s"] > 0 and got["prompt_tokens_per_s"] > 0
    result = bench_knobs(runs=1, n_prompt=16, n_gen=2, rows=[
        KnobRow("quantized V alone", Knobs(n_ctx=512, type_v="q8_0")), KnobRow("small", Knobs(n_ctx=512))])
    bad, ok = result["rows"]
    assert "flash_attn=True" in bad["refused"] and ok["kv_cache_mib"] == ok["predicted_kv_cache_mib"]
