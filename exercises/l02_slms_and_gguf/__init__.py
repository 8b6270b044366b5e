"""Lesson 02: SLMs and the GGUF format. Your code lives in the modules of this package."""
