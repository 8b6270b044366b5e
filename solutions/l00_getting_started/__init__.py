"""Lesson 00: getting started with SLM agents. Your code lives in the modules of this package."""
