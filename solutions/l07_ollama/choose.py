"""Exercise l07.2: is a model there, and which model suits a task?

Ollama lists models with their tag: ``smollm2-135m:latest``. A request for
``smollm2-135m`` means the ``latest`` tag, so the source's
``model['name'] == model_name`` check says a listed model is missing.

The task classifier reads :data:`ROUTES` in order: the first route with a
keyword that appears in the task *as a whole word* (so "decode" is not "code")
wins, and its models are tried in order; the first one available is the
answer. A task no route matches, or whose models are all missing, falls back to
the ``general`` route.
"""

import re

ROUTES = [
    ("routing", ["route", "classify", "simple", "triage"], ["smollm2-135m"]),
    ("coding", ["code", "program", "programming", "debug", "python"], ["qwen2.5-coder-0.5b"]),
    ("completion", ["continue", "complete", "autocomplete"], ["gemma3-270m"]),
    ("general", [], ["smollm2-135m", "qwen2.5-coder-0.5b"]),
]


def model_available(name: str, listed: list[str]) -> bool:
    """True if ``name`` is among ``listed`` (names as ``/api/tags`` gives them), a missing tag meaning ``latest``."""
    ### BEGIN SOLUTION
    def full(n: str) -> str:
        return n if ":" in n else n + ":latest"

    return full(name) in {full(n) for n in listed}
    ### END SOLUTION


def choose_model(task: str, listed: list[str]) -> str:
    """The model for ``task``: the first available model of the first matching route, else of ``general``.

    Raise ``LookupError`` naming the models tried when none of them is available.
    """
    ### BEGIN SOLUTION
    words = set(re.findall(r"[a-z0-9]+", task.lower()))
    chosen = next((r for r in ROUTES if words & set(r[1])), None)
    general = next(r for r in ROUTES if r[0] == "general")
    tried = []
    for route in ([chosen] if chosen else []) + [general]:
        for model in route[2]:
            tried.append(model)
            if model_available(model, listed):
                return model
    raise LookupError(f"none of the models for this task is available: {', '.join(tried)}; pull one first")
    ### END SOLUTION
