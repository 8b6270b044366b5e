"""Lesson 01: agent foundations. Your code lives in the modules of this package."""
