"""Start real servers on free loopback ports for tests, and always stop them (course.net does the work)."""

from __future__ import annotations

import sys

from course.net import free_port, served as running  # noqa: F401  (the tests' names for them)


def llama_server_cmd(model_file: str, port: int, *, chat_format: str = "chatml-function-calling") -> list[str]:
    return [sys.executable, "-m", "course.backends.llama_server", "--model", model_file, "--host", "127.0.0.1",
            "--port", str(port), "--n_ctx", "2048", "--n_threads", "2", "--chat_format", chat_format,
            "--model_alias", "smollm2-135m", "--verbose", "False"]
