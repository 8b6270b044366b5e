"""Lesson 04: edge runtimes side by side.

- :mod:`.roofline`: the memory-bandwidth ceiling of generation, and the bytes one token reads;
- :mod:`.compare`: llama.cpp, ONNX Runtime GenAI, plain ONNX Runtime and Apple MLX on the same token ids
  (``course bench runtimes``);
- :mod:`.knobs`: llama.cpp's settings, what llama.cpp refuses, the buffers they cost, measured
  (``course bench knobs``);
- :mod:`.ort_decode`: the greedy decode loop over a plain ``onnxruntime.InferenceSession``, and a NumPy stand-in;
- :mod:`.mlx_layout`: GGUF's quantized blocks in MLX's affine layout, and back to floats;
- :mod:`.onnx_weights`: an ONNX model's weights, and which of them a token reads.

The runtimes themselves sit behind the course's chat interface in :mod:`course.backends`
(``onnxruntime-genai`` and ``mlx`` beside ``llama.cpp``).
"""
