"""Lesson 10: agents in production, with the tools production teams run (Prometheus, promtool, ...).

``course serve`` itself exposes the metrics (:mod:`course.servers.metrics`); this package runs what reads
them: :mod:`.prometheus` (Debian's Prometheus server and promtool, on loopback).
"""
