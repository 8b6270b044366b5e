"""Apple MLX behind the course's chat interface (lesson 04): SmolLM2's own Q4_1 GGUF, kept quantized, for real.

MLX's Linux CPU wheel is slow (a reference BLAS), so replies here are short.
"""

import numpy as np
import pytest

from extras import require_extra

require_extra("mlx")

from course.backends import make_backend  # noqa: E402
from course.backends.mlx_gguf import bits_of, load_gguf_model, mlx_name  # noqa: E402
from course.backends.types import BadRequestError  # noqa: E402
from course.models import model_path  # noqa: E402

MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.fixture(scope="module")
def mlx_backend():
    backend = make_backend("mlx", "smollm2-135m")
    yield backend
    backend.close()


def test_gguf_names_map_to_mlx_lm_llama_names():
    assert mlx_name("blk.3.attn_q.scales") == "model.layers.3.self_attn.q_proj.scales"
    assert mlx_name("blk.0.ffn_norm.weight") == "model.layers.0.post_attention_layernorm.weight"
    assert mlx_name("token_embd.biases") == "model.embed_tokens.biases"
    assert mlx_name("output_norm.weight") == "model.norm.weight"
    with pytest.raises(ValueError, match="unknown GGUF tensor"):
        mlx_name("blk.0.attn_qkv.weight")
    assert bits_of(72, 18) == 4 and bits_of(144, 18) == 8
    with pytest.raises(ValueError):
        bits_of(70, 18)


def test_mlx_keeps_q4_1_quantized_and_its_values_are_llama_cpps():
    """MLX's affine arrays of a Q4_1 tensor dequantize to what gguf's reference dequantizer gives."""
    import gguf
    import mlx.core as mx

    path = model_path("smollm2-135m")
    arrays = mx.load(str(path))
    reader = gguf.GGUFReader(path)
    tensor = next(t for t in reader.tensors if t.name == "blk.0.attn_q.weight")
    assert tensor.tensor_type == gguf.GGMLQuantizationType.Q4_1
    expected = gguf.quants.dequantize(tensor.data, tensor.tensor_type)
    w, s, b = (arrays[f"blk.0.attn_q.{k}"] for k in ("weight", "scales", "biases"))
    assert w.dtype == mx.uint32 and s.dtype == mx.float16
    got = np.array(mx.dequantize(w, s, b, group_size=32, bits=4).astype(mx.float32))
    np.testing.assert_allclose(got, expected.reshape(got.shape), atol=2e-3, rtol=1e-2)


def test_greedy_chat_streams_with_exact_usage(mlx_backend):
    reply = mlx_backend.chat(MESSAGES, max_tokens=12)
    assert reply.content.strip() and reply.usage.prompt_tokens == 37 and 0 < reply.usage.completion_tokens <= 12
    streamed = "".join(c.content for c in mlx_backend.stream(MESSAGES, max_tokens=12))
    assert streamed == reply.content  # greedy: the same text, in pieces
    assert reply.timings.ttft_s > 0 and reply.timings.tokens_per_s > 0


def test_the_lesson_00_agent_runs_on_mlx(mlx_backend):
    from course.agent import Agent
    from course.tools.clock import get_current_time

    result = Agent(mlx_backend, [get_current_time], max_steps=2, max_tokens=32).run("What time is it in Paris?")
    assert result.stop_reason in ("answer", "max_steps") and result.trace.model_steps
    for step in result.trace.tool_steps:
        assert step.call.name == "get_current_time" or not step.ok


def test_unsupported_requests_are_clear_errors(mlx_backend):
    with pytest.raises(BadRequestError, match="response_format"):
        mlx_backend.chat(MESSAGES, response_format={"type": "json_object"})
    with pytest.raises(BadRequestError, match=r"llama-architecture.*'gemma3'.*llama\.cpp backend.*Q4_K_M"):
        make_backend("mlx", "gemma3-270m")
    with pytest.raises(BadRequestError, match=r"MLX cannot read gemma.*Q4_0, Q4_1, Q8_0.*llama\.cpp backend"):
        load_gguf_model(model_path("gemma3-270m"))  # Q4_K tensors, which mx.load does not read
