"""Benchmarks: figures measured beside a reference from the same run."""
