"""Lesson 07: Ollama's API, for real. Your code lives in the modules of this package."""
