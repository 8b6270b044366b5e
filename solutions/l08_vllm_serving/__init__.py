"""Lesson 08: vLLM serving on the CPU. Your code lives in the modules of this package."""
