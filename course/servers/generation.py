"""What both faces ask of the engine: a chat reply, a plain completion, or embeddings.

A face translates its protocol into one :class:`GenerationSpec`; :func:`generate`
runs it on the engine and yields a :class:`Started` event (the model is loaded,
this request's turn has come), then the backend's chunks. The generator holds
the model's turn until it is exhausted *or closed*: a face that stops reading
because its client left closes it, and the next request in line runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import trace as otel_trace
from opentelemetry.trace import Status, StatusCode

from ..backends.stops import check_stop
from ..backends.types import BadRequestError, ChatChunk
from .engine import Derived, Engine
from .http import ClientGone
from .metrics import request_model

_tracer = otel_trace.get_tracer("course.serve")

DEFAULT_MAX_TOKENS = 512  # the course's default reply length; both protocols default to "unlimited"

# Ollama options the course's llama.cpp backend honours; the others are accepted and reported as ignored.
HONOURED_OPTIONS = {"temperature", "seed", "num_predict", "num_ctx", "stop"}
KNOWN_OPTIONS = HONOURED_OPTIONS | {
    "numa", "num_batch", "num_gpu", "main_gpu", "low_vram", "f16_kv", "logits_all", "vocab_only", "use_mmap",
    "use_mlock", "embedding_only", "num_thread", "num_keep", "top_k", "top_p", "min_p", "tfs_z", "typical_p",
    "repeat_last_n", "repeat_penalty", "presence_penalty", "frequency_penalty", "mirostat", "mirostat_tau",
    "mirostat_eta", "penalize_newline",
}


@dataclass
class GenerationSpec:
    """One request, in the engine's terms."""

    model: str
    messages: list[dict] | None = None  # a chat ...
    prompt: str | None = None  # ... or a plain completion of this exact text
    tools: list[dict] = field(default_factory=list)
    tool_choice: str | dict | None = None
    response_format: dict | None = None
    temperature: float | None = None
    seed: int | None = None
    max_tokens: int | None = None  # None: DEFAULT_MAX_TOKENS; -1: until the context is full
    n_ctx: int | None = None
    keep_alive: float | None = None
    stop: list[str] = field(default_factory=list)  # stop sequences
    default_temperature: float = 0.8  # Ollama's default; OpenAI's is 1.0


@dataclass
class Started:
    """The request's turn has come and its model is loaded (``load_s`` > 0 if it loaded now)."""

    load_s: float
    derived: Derived | None


def check_options(options: Any, *, where: str = "options") -> tuple[dict, list[str]]:
    """Validate Ollama ``options``: (the honoured ones, the names of the ignored ones)."""
    if options is None:
        return {}, []
    if not isinstance(options, dict):
        raise BadRequestError(f"{where} must be an object such as {{\"temperature\": 0, \"num_ctx\": 2048}}, "
                              f"got {type(options).__name__}")
    unknown = sorted(set(options) - KNOWN_OPTIONS)
    if unknown:
        raise BadRequestError(f"{where} has unknown option(s) {unknown}; known: {sorted(KNOWN_OPTIONS)}")
    honoured: dict[str, Any] = {}
    for name in HONOURED_OPTIONS & set(options):
        value = options[name]
        if value is None:
            continue
        if name == "stop":
            honoured[name] = check_stop(value)
        elif name == "temperature":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 2:
                raise BadRequestError(f"{where}.temperature must be a number from 0 to 2, got {value!r}")
            honoured[name] = float(value)
        else:
            if isinstance(value, bool) or not isinstance(value, int):
                raise BadRequestError(f"{where}.{name} must be an integer, got {value!r}")
            if name == "num_ctx" and not 64 <= value <= 131072:
                raise BadRequestError(f"{where}.num_ctx must be from 64 to 131072, got {value}")
            if name == "num_predict" and value == 0:
                raise BadRequestError(f"{where}.num_predict must be positive, or -1 for 'until the context is full'")
            honoured[name] = value
    ignored = sorted(k for k in set(options) - HONOURED_OPTIONS if options[k] is not None)
    return honoured, ignored


def apply_options(spec: GenerationSpec, options: dict) -> None:
    """Fill the fields ``options`` sets that the request itself left empty."""
    if spec.temperature is None and "temperature" in options:
        spec.temperature = options["temperature"]
    if spec.seed is None and "seed" in options:
        spec.seed = options["seed"]
    if spec.max_tokens is None and "num_predict" in options:
        spec.max_tokens = -1 if options["num_predict"] < 0 else options["num_predict"]
    if spec.n_ctx is None and "num_ctx" in options:
        spec.n_ctx = options["num_ctx"]
    if not spec.stop and options.get("stop"):
        spec.stop = options["stop"]


def with_derived(messages: list[dict], derived: Derived | None) -> list[dict]:
    """A derived model's conversation: its system prompt (unless the request has one) and example messages."""
    if derived is None:
        return messages
    has_system = any(m.get("role") in ("system", "developer") for m in messages)
    head = [] if has_system or not derived.system else [{"role": "system", "content": derived.system}]
    return head + list(derived.messages) + messages


def generate(engine: Engine, spec: GenerationSpec, *,
             client_gone: Callable[[], bool] | None = None) -> Iterator[Started | ChatChunk]:
    """Run ``spec``: a :class:`Started` event, then the chunks (the last one carries the response).

    ``client_gone`` is asked before each chunk: when it says the client left (a reply that is not
    streamed has no write that would fail), :class:`ClientGone` is raised and the generation stops.
    """
    metrics = getattr(engine, "metrics", None)
    with engine.use(spec.model, n_ctx=spec.n_ctx, keep_alive=spec.keep_alive) as lease:
        request_model(spec.model)  # a model the engine knows: a label of bounded number (never a client's typo)
        if lease.derived is not None:
            derived_options, _ = check_options(lease.derived.parameters, where="the model's parameters")
            apply_options(spec, derived_options)
        backend = lease.backend
        temperature = spec.default_temperature if spec.temperature is None else spec.temperature
        if spec.prompt is not None:
            max_tokens = spec.max_tokens or DEFAULT_MAX_TOKENS
            if max_tokens < 0:
                max_tokens = backend.n_ctx - backend.count_tokens(spec.prompt)
            stream = backend.complete_stream(spec.prompt, max_tokens=max(1, max_tokens), temperature=temperature,
                                             seed=spec.seed, response_format=spec.response_format, stop=spec.stop)
        else:
            if lease.entry.kind != "chat":
                raise BadRequestError(
                    f"model '{spec.model}' is a base model without a chat template: use /api/generate "
                    "(plain completion), or a chat model such as smollm2-135m")
            messages = with_derived(spec.messages or [], lease.derived)
            max_tokens = spec.max_tokens or DEFAULT_MAX_TOKENS
            if max_tokens < 0:
                max_tokens = backend.room(messages, tools=spec.tools, tool_choice=spec.tool_choice)
            stream = backend.stream(messages, tools=spec.tools, tool_choice=spec.tool_choice,
                                    response_format=spec.response_format, temperature=temperature,
                                    seed=spec.seed, max_tokens=max(1, max_tokens), stop=spec.stop)
        # a span started, not made current: a generator may be closed from elsewhere, so nothing is attached
        span = _tracer.start_span(f"generate {spec.model}", attributes={
            "gen_ai.operation.name": "generate", "gen_ai.request.model": spec.model,
            "course.load_s": lease.load_s})
        started = time.perf_counter()
        try:
            # the request is valid (stream() checks it eagerly) and the model loaded: the reply begins
            yield Started(lease.load_s, lease.derived)
            first = True
            for chunk in engine.compute.iterate(stream):  # llama.cpp computes on the engine's one thread
                if client_gone is not None and client_gone():
                    raise ClientGone(f"the client left; generation of {spec.model} stopped")
                if first:
                    span.set_attribute("course.ttft_s", time.perf_counter() - started)
                    first = False
                if metrics is not None:
                    metrics.chunk(spec.model)
                    if chunk.response is not None:
                        metrics.generated(spec.model, chunk.response.usage.completion_tokens)
                if chunk.response is not None:
                    span.set_attribute("gen_ai.usage.output_tokens", chunk.response.usage.completion_tokens)
                    span.set_attribute("gen_ai.usage.input_tokens", chunk.response.usage.prompt_tokens)
                yield chunk
        except BaseException as exc:
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise
        finally:
            span.end()
            engine.compute.call(stream.close)  # a reply cut short stops generating, on the compute thread


def embed(engine: Engine, model: str, texts: list[str], *, truncate: bool = True,
          keep_alive: float | None = None) -> tuple[list[list[float]], int, float]:
    """(unit vectors, tokens read, load seconds) for ``texts``."""
    with engine.use(model, kind="embed", keep_alive=keep_alive) as lease:
        vectors, tokens = engine.compute.call(lambda: lease.backend.embed(texts, truncate=truncate))
        return vectors, tokens, lease.load_s


def as_http_error(exc: Exception):
    """The HTTP error a face answers for an exception from the engine or a backend.

    An exception of no known kind is raised again: it is a bug, which the HTTP
    layer answers with a 500 and logs with its traceback.
    """
    from ..backends.types import BackendError
    from ..models import ModelError
    from .engine import EngineError
    from .http import HTTPError

    if isinstance(exc, HTTPError):
        return exc
    if isinstance(exc, EngineError):
        return HTTPError(exc.status, str(exc), code="model_not_found" if exc.status == 404 else None)
    if isinstance(exc, BadRequestError):
        return HTTPError(400, str(exc))
    if isinstance(exc, (ModelError, BackendError)):
        return HTTPError(500, str(exc))
    if isinstance(exc, ValueError):
        return HTTPError(400, str(exc))
    raise exc
