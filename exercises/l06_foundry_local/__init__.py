"""Lesson 06: Foundry Local, for real and offline. Your code lives in the modules of this package."""
