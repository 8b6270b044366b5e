"""Lesson 09: agent framework patterns. Your code lives in the modules of this package."""
