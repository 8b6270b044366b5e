"""A cap on agents running at once.

Two cores do not run two generations faster than one (lesson 07 measured it);
a cap keeps a burst of requests from piling up in memory and makes the
overflow visible: a request waits up to ``wait_s`` for a slot and is then
refused with :class:`Busy`, which a front end can turn into "try again in a
moment". The model cache with a memory budget, LRU and idle unloading is the
engine of ``course serve`` (:class:`course.servers.engine.Engine`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")


class Busy(Exception):
    """Every slot stayed taken for the whole wait."""


class AgentPool:
    def __init__(self, max_concurrent: int, *, wait_s: float = 30.0):
        if max_concurrent < 1:
            raise ValueError("max_concurrent must be at least 1")
        self.max_concurrent, self.wait_s = max_concurrent, wait_s
        self._slots = threading.BoundedSemaphore(max_concurrent)
        self._lock = threading.Lock()
        self.running = 0
        self.peak = 0
        self.refused = 0

    @contextmanager
    def slot(self, wait_s: float | None = None):
        wait = self.wait_s if wait_s is None else wait_s
        if not self._slots.acquire(timeout=wait):
            with self._lock:
                self.refused += 1
            raise Busy(f"all {self.max_concurrent} agent slots stayed busy for {wait:g} s; try again later")
        with self._lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        try:
            yield
        finally:
            with self._lock:
                self.running -= 1
            self._slots.release()

    def run(self, fn: Callable[[], T], *, wait_s: float | None = None) -> T:
        with self.slot(wait_s):
            return fn()
