"""Lesson 10: agents in production. Your code lives in the modules of this package."""
