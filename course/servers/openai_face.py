"""The OpenAI-compatible face of ``course serve``: ``/v1/models``, ``/v1/chat/completions``, ``/v1/embeddings``.

Foundry Local, vLLM, llama.cpp's server and Ollama's ``/v1`` speak this protocol,
so a client written against this face works against them by changing
``base_url``. Every standard message shape is accepted: an assistant message
with ``tool_calls`` and no (or ``null``) ``content``, ``tool`` messages with
their ``tool_call_id``, content as a string or a list of text parts.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..backends.stops import check_stop
from ..backends.types import BadRequestError, ChatChunk, ChatResponse
from .engine import Engine
from .generation import DEFAULT_MAX_TOKENS, GenerationSpec, Started, as_http_error, embed, generate
from .http import Face, HTTPError, Request, Response, Stream, field_of

OWNER = "edge-agents-course"
# Parameters of the chat completions API that are accepted and have no effect here.
IGNORED = {"top_p", "frequency_penalty", "presence_penalty", "logprobs", "top_logprobs", "user",
           "parallel_tool_calls", "metadata", "store", "service_tier", "logit_bias", "reasoning_effort",
           "modalities", "prediction", "verbosity", "safety_identifier", "prompt_cache_key"}
HONOURED = {"model", "messages", "stream", "stream_options", "tools", "tool_choice", "response_format",
            "temperature", "seed", "max_tokens", "max_completion_tokens", "n", "stop"}


def error_body(exc: HTTPError) -> dict:
    kind = {401: "authentication_error", 404: "not_found_error", 413: "invalid_request_error",
            429: "rate_limit_error"}.get(exc.status, "invalid_request_error" if exc.status < 500 else "server_error")
    return {"error": {"message": exc.message, "type": kind, "param": None, "code": exc.code}}



def build_face(engine: Engine) -> Face:
    face = Face("openai", ("/v1",), error_body)
    created = int(time.time())

    def model_card(name: str) -> dict:
        return {"id": name, "object": "model", "created": created, "owned_by": OWNER}

    @face.route("GET", "/v1/models")
    def models(request: Request) -> Response:
        names = [e.alias for e in engine.installed()] + sorted(engine.derived)
        return Response(body={"object": "list", "data": [model_card(n) for n in names]})

    @face.route("GET", "/v1/models/*")
    def model(request: Request) -> Response:
        name = request.path[len("/v1/models/"):]
        try:
            engine.resolve(name)
        except Exception as exc:
            raise as_http_error(exc) from None
        return Response(body=model_card(engine.canonical(name)))

    @face.route("POST", "/v1/chat/completions")
    def chat_completions(request: Request) -> Response | Stream:
        body = request.json()
        unknown = sorted(set(body) - HONOURED - IGNORED)
        if unknown:
            raise HTTPError(400, f"unrecognized request argument(s): {', '.join(unknown)}")
        spec = chat_spec(body)
        stream = field_of(body, "stream", "true or false", default=False)
        options = field_of(body, "stream_options", "an object", default={})
        include_usage = bool(field_of(options, "include_usage", "true or false", default=False,
                                      where="stream_options."))
        reply_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        events = generate(engine, spec, client_gone=None if stream else request.client_gone)
        if stream:
            return Stream("text/event-stream", sse(events, reply_id, spec.model, include_usage))
        try:
            final, load_s = _last_response(events)
        except Exception as exc:
            raise as_http_error(exc) from None
        return Response(body=completion(final, reply_id, spec.model), headers=server_timing(load_s, final))

    @face.route("POST", "/v1/embeddings")
    def embeddings(request: Request) -> Response:
        body = request.json()
        name = field_of(body, "model", "a string", required=True)
        texts = body.get("input")
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            raise HTTPError(400, "'input' must be a string or a non-empty list of strings (token arrays are not "
                                 "supported here)")
        encoding = field_of(body, "encoding_format", "a string", default="float")
        if encoding not in ("float", "base64"):
            raise HTTPError(400, f"'encoding_format' must be 'float' or 'base64', got {encoding!r}")
        if body.get("dimensions") is not None:
            raise HTTPError(400, "'dimensions' is not supported: these models have one embedding size")
        try:
            vectors, tokens, _ = embed(engine, name, texts)
        except Exception as exc:
            raise as_http_error(exc) from None
        data = []
        for i, vec in enumerate(vectors):
            value: Any = vec
            if encoding == "base64":
                value = base64.b64encode(np.asarray(vec, dtype="<f4").tobytes()).decode()
            data.append({"object": "embedding", "index": i, "embedding": value})
        return Response(body={"object": "list", "data": data, "model": engine.canonical(name),
                              "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

    return face


def chat_spec(body: dict) -> GenerationSpec:
    """The request's fields, type-checked; content checks happen in the backend (same messages)."""
    name = field_of(body, "model", "a string", required=True)
    messages = field_of(body, "messages", "a list", required=True)
    if not all(isinstance(m, dict) for m in messages):
        raise HTTPError(400, "'messages' must be a list of objects with a role and content")
    if field_of(body, "n", "an integer", default=1) != 1:
        raise HTTPError(400, "'n' must be 1: one choice per request")
    try:
        stop = check_stop(body.get("stop"))
    except BadRequestError as exc:
        raise HTTPError(400, f"'stop': {exc}") from None
    max_tokens = field_of(body, "max_completion_tokens", "an integer") or field_of(body, "max_tokens", "an integer")
    if max_tokens is not None and max_tokens < 1:
        raise HTTPError(400, f"'max_tokens' must be at least 1, got {max_tokens}")
    temperature = field_of(body, "temperature", "a number")
    return GenerationSpec(
        model=name,
        messages=messages,
        tools=field_of(body, "tools", "a list", default=[]),
        tool_choice=body.get("tool_choice"),
        response_format=field_of(body, "response_format", "an object"),
        temperature=None if temperature is None else float(temperature),
        seed=field_of(body, "seed", "an integer"),
        max_tokens=max_tokens or DEFAULT_MAX_TOKENS,
        default_temperature=1.0,  # OpenAI's default
        stop=stop,
    )


def _last_response(events: Iterator[Any]) -> tuple[ChatResponse, float]:
    final, load_s = None, 0.0
    try:
        for event in events:
            if isinstance(event, Started):
                load_s = event.load_s
            elif isinstance(event, ChatChunk) and event.response is not None:
                final = event.response
    finally:
        events.close()
    assert final is not None
    return final, load_s


def server_timing(load_s: float, response: ChatResponse) -> dict[str, str]:
    """The standard ``Server-Timing`` header: what loading and generating took inside the server,
    so a client can tell the server's own time from the protocol's (``course bench serving``)."""
    return {"Server-Timing": f"load;dur={load_s * 1000:.3f}, generation;dur={response.timings.total_s * 1000:.3f}"}


def _calls(response: ChatResponse) -> list[dict]:
    # unique ids: a conversation holds the calls of many turns, and clients match results by id
    return [{"id": f"call_{uuid.uuid4().hex[:12]}", "type": "function",
             "function": {"name": c.name, "arguments": c.arguments}} for c in response.tool_calls]


def _usage(response: ChatResponse) -> dict:
    u = response.usage
    return {"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens,
            "total_tokens": u.total_tokens}


def completion(response: ChatResponse, reply_id: str, model: str) -> dict:
    message: dict[str, Any] = {"role": "assistant", "content": response.content}
    if response.tool_calls:
        message["tool_calls"] = _calls(response)
    return {"id": reply_id, "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": response.finish_reason}],
            "usage": _usage(response), "system_fingerprint": OWNER}


def sse(events: Iterator[Any], reply_id: str, model: str, include_usage: bool) -> Iterator[bytes]:
    """Server-sent events in OpenAI's chunk format, ending with ``data: [DONE]``."""
    created = int(time.time())

    def chunk(delta: dict, finish: str | None = None, **extra: Any) -> bytes:
        payload = {"id": reply_id, "object": "chat.completion.chunk", "created": created, "model": model,
                   "system_fingerprint": OWNER,
                   "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}
        payload.update(extra)
        return b"data: " + json.dumps(payload).encode() + b"\n\n"

    sent = False
    try:
        for event in events:
            if isinstance(event, Started):
                out = [chunk({"role": "assistant", "content": ""})]
            elif event.content:
                out = [chunk({"content": event.content})]
            elif event.response is not None:
                response = event.response
                out = []
                if response.tool_calls:
                    out.append(chunk({"tool_calls": [dict(call, index=i) for i, call in enumerate(_calls(response))]}))
                out.append(chunk({}, response.finish_reason))
                if include_usage:
                    payload = json.loads(chunk({})[len(b"data: "):])
                    payload["choices"] = []
                    payload["usage"] = _usage(response)
                    out.append(b"data: " + json.dumps(payload).encode() + b"\n\n")
            else:
                continue
            for data in out:
                sent = True
                yield data
        yield b"data: [DONE]\n\n"
    except Exception as exc:
        http = as_http_error(exc)  # raises again what is not a known kind of error
        if not sent:
            raise http from None  # no status sent yet: the client gets a proper 4xx/5xx
        # the status line is gone; OpenAI's clients raise on an event carrying "error"
        yield b"data: " + json.dumps(error_body(http)).encode() + b"\n\n"
    finally:
        events.close()
