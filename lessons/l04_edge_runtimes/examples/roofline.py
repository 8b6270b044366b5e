"""The memory-bandwidth roofline of the three shipped models, on this machine."""

from course.formats.memory import ModelShape
from course.models import model_path
from course.runtimes.roofline import bytes_per_token, memory_bandwidth, roofline_tokens_per_s, tensor_table

bandwidth = memory_bandwidth()
print(f"memory bandwidth here: {bandwidth / 1e9:.1f} GB/s (large copies, read and write counted)\n")
for alias in ("smollm2-135m", "qwen2.5-coder-0.5b", "gemma3-270m"):
    tensors = tensor_table(alias)
    shape = ModelShape.from_gguf(model_path(alias))
    tied = "output.weight" not in tensors
    # one position of f16 KV cache: a key and a value per layer and KV head
    kv = shape.layers * shape.kv_heads * (shape.head_size + shape.value_head_size) * 2
    weights = bytes_per_token(tensors)
    at_1000 = bytes_per_token(tensors, kv_bytes_per_position=kv, position=1000)
    print(f"{alias}: file {model_path(alias).stat().st_size / 1e6:.0f} MB, embeddings "
          f"{'tied' if tied else 'untied'}")
    print(f"  a token reads {weights / 1e6:.0f} MB of weights -> at most "
          f"{roofline_tokens_per_s(bandwidth, weights):.0f} tokens/s")
    print(f"  at position 1000 the KV cache adds {(at_1000 - weights) / 1e6:.1f} MB -> at most "
          f"{roofline_tokens_per_s(bandwidth, at_1000):.0f} tokens/s")
