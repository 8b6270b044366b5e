"""llama-cpp-python's own OpenAI-compatible server, loading models the course's way.

``python -m course.backends.llama_server --model FILE ...`` takes the same
arguments as ``python -m llama_cpp.server`` (the ``server`` extra) and runs it,
after applying the course's decision about llama.cpp's extra buffer types
(:mod:`course.backends.llama_loader`), so the reference server does not crash
on CPUs whose AMX path does.
"""

from __future__ import annotations

import runpy


def main() -> None:
    from .llama_loader import apply_to_process

    try:
        import llama_cpp.server  # noqa: F401  (the server extra)
    except ImportError as exc:
        raise SystemExit("llama-cpp-python's server is not installed: pip install -e \".[server]\"") from exc
    apply_to_process()
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
