"""llama.cpp's knobs: what it refuses, and the buffers it allocates, predicted and then reported."""

from course.formats.memory import MiB, ModelShape, llama_cpp_report
from course.models import model_path
from course.runtimes.knobs import Knobs, knob_problem, predict_buffers

print("refused before loading:", knob_problem(Knobs(type_v="q8_0")))

path = model_path("smollm2-135m")
shape = ModelShape.from_gguf(path)
print(f"\n{shape.name}: {shape.layers} layers, {shape.heads} heads, {shape.kv_heads} KV heads of {shape.head_size}, "
      f"vocabulary {shape.vocabulary}")
print(f"{'setting':42} {'KV MiB':>16} {'compute MiB':>18}")
for label, knobs in [("n_ctx 2048 (the defaults)", Knobs()),
                     ("n_ctx 2048, n_ubatch 64", Knobs(n_ubatch=64)),
                     ("n_ctx 8192", Knobs(n_ctx=8192)),
                     ("n_ctx 8192, flash attention", Knobs(n_ctx=8192, flash_attn=True)),
                     ("n_ctx 8192, flash attention, q8_0 K and V",
                      Knobs(n_ctx=8192, flash_attn=True, type_k="q8_0", type_v="q8_0"))]:
    predicted = predict_buffers(shape, knobs)
    reported = llama_cpp_report(path, knobs.n_ctx, knobs.type_k, type_v=knobs.type_v, flash_attn=knobs.flash_attn,
                                n_ubatch=knobs.n_ubatch)
    print(f"{label:42} {reported['kv_cache']:7.1f} ({predicted['kv_cache'] / MiB:6.1f}) "
          f"{reported['compute']:8.1f} ({predicted['compute'] / MiB:6.1f})")
print("(llama.cpp's report, the prediction in brackets)")
