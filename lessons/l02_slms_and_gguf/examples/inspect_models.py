"""What the three shipped models are made of, read from their headers with the course's reader."""

from course.formats import read_gguf, summarize
from course.models import ModelNotInstalledError, model_path

for alias in ("smollm2-135m", "gemma3-270m", "qwen2.5-coder-0.5b"):
    try:
        s = summarize(read_gguf(model_path(alias)))
    except ModelNotInstalledError as exc:  # Qwen comes with pip install -e ".[all]"
        print(f"{alias}: not installed ({exc})")
        continue
    print(f"{alias}: {s['architecture']}, {s['parameters'] / 1e6:.1f} M parameters, "
          f"{s['file_bytes'] / 1e6:.1f} MB, {s['bits_per_weight']:.2f} bits per weight")
    print(f"  {s['layers']} layers, {s['heads']} heads ({s['kv_heads']} KV heads) of {s['head_size']}, "
          f"vocabulary {s['vocabulary']:,}, context {s['context_length']:,}, "
          f"chat template: {'yes' if s['chat_template'] else 'no'}")
    shares = ", ".join(f"{t['type']} {t['share_of_file']:.0%}" for t in s["tensor_types"] if t["share_of_file"] >= 0.01)
    print(f"  where the bytes go: {shares}")
