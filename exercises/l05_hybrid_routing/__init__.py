"""Lesson 05: SLM first, LLM when needed. Your code lives in the modules of this package."""
