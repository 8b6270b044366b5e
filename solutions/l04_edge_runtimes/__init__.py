"""Lesson 04: edge runtimes side by side. Your code lives in the modules of this package."""
