"""Lesson 11: the capstone. Your code lives in the modules of this package."""
