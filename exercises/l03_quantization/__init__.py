"""Lesson 03: quantization. Your code lives in the modules of this package."""
