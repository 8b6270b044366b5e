"""Lesson 00's agent on llama.cpp, ONNX Runtime GenAI and Apple MLX: one interface, three runtimes."""

from course.agent import Agent
from course.backends import make_backend
from course.models.forms import prepare
from course.tools.clock import get_current_time

prepare("smollm2-135m", "onnx")  # the ONNX form, once
for runtime in ("llama.cpp", "onnxruntime-genai", "mlx"):
    backend = make_backend(runtime, "smollm2-135m")
    result = Agent(backend, [get_current_time], max_steps=2, max_tokens=32).run("What time is it in Paris right now?")
    calls = [f"{s.call.name}({s.call.arguments})" for s in result.trace.tool_steps]
    speeds = [s.response.timings.tokens_per_s for s in result.trace.model_steps if s.response.timings.tokens_per_s]
    print(f"{runtime}: {result.stop_reason}; tool calls {calls or 'none'}")
    print(f"  answer: {(result.answer or '').strip()[:100]!r}")
    print(f"  decode {min(speeds):.0f}-{max(speeds):.0f} tokens/s" if speeds else "  (no timings)")
    backend.close()
