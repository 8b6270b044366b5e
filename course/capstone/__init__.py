"""Lesson 11, the capstone: two reference agents, an evaluation harness, and the learner's own agent."""
