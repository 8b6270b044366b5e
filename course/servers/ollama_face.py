"""The Ollama-compatible face of ``course serve``: Ollama's REST API under ``/api``.

Implemented: ``GET /api/version``, ``GET /api/tags``, ``POST /api/show``,
``GET /api/ps``, ``POST /api/pull``, ``POST /api/create``, ``DELETE /api/delete``,
``POST /api/chat``, ``POST /api/generate``, ``POST /api/embed`` (and the older
``/api/embeddings``). Replies stream as NDJSON by default, as Ollama's do; the
last line of a chat or generate stream has ``done: true``, the token counts and
the durations in nanoseconds.

Where the course differs from Ollama, it says so instead of pretending:

- "pulling" resolves a model from the course's registry (joining chunk packages
  and checking the sha256 on the way), never from the network;
- ``/api/create`` derives a model from a served one with a system prompt,
  example messages and default parameters; a new ``template`` or weights
  (``files``, ``adapters``, ``quantize``) are refused;
- ``options`` that llama.cpp's backend here does not honour (``top_k``, ``top_p``
  ...) are accepted and named in the server log and in an ``X-Course-Ignored-Options``
  header of non-streamed replies;
- the durations are measured on this server: the prompt evaluation is the time
  to the first generated token, the evaluation the time after it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

from ..backends.types import ChatChunk, ChatResponse, json_schema_format
from ..models import ModelEntry, model_path
from ..models.registry import installed_at
from .engine import Derived, Engine, parse_keep_alive
from .generation import GenerationSpec, Started, apply_options, as_http_error, check_options, embed, generate
from .http import Face, HTTPError, Request, Response, Stream, field_of

OLLAMA_API_VERSION = "0.12.6"  # the version of Ollama's REST API this face follows
NS = 1_000_000_000


def error_body(exc: HTTPError) -> dict:
    return {"error": exc.message}



def now_rfc3339() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def tagged(name: str) -> str:
    """Ollama's full name: ``smollm2-135m`` is listed as ``smollm2-135m:latest``."""
    return name if ":" in name else f"{name}:latest"


class ModelInfo:
    """What ``/api/tags`` and ``/api/show`` say about a registry model, read once from its GGUF header."""

    _cache: dict[str, dict] = {}
    _lock = threading.Lock()

    @classmethod
    def of(cls, entry: ModelEntry) -> dict:
        with cls._lock:
            if entry.alias not in cls._cache:
                from ..formats import read_gguf

                path = model_path(entry.alias)
                g = read_gguf(path)
                meta = {k: v for k, v in g.metadata.items() if not isinstance(v, (list, bytes))}
                meta.setdefault("general.parameter_count", g.parameter_count)
                cls._cache[entry.alias] = {
                    "path": str(path),
                    "template": meta.get("tokenizer.chat_template", "") or "",
                    "model_info": meta,
                    "details": details(entry),
                    "modified_at": datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).isoformat(),
                }
            return cls._cache[entry.alias]


def details(entry: ModelEntry) -> dict:
    """The ``details`` object from the registry, without reading the file (it may not be joined yet)."""
    return {"parent_model": "", "format": "gguf", "family": entry.architecture, "families": [entry.architecture],
            "parameter_size": entry.parameters, "quantization_level": entry.quantization}


def build_face(engine: Engine) -> Face:
    face = Face("ollama", ("/api", "/"), error_body)

    @face.route("GET", "/")
    def root(request: Request) -> Response:
        return Response(body="course serve is running (Ollama API at /api, OpenAI API at /v1)")

    @face.route("GET", "/health")
    def health(request: Request) -> Response:
        # a liveness probe, answered without a key: it says the server is alive and nothing else
        # (which models are loaded is /api/ps's business, behind the key)
        return Response(body={"status": "ok"})

    @face.route("GET", "/api/version")
    def version(request: Request) -> Response:
        return Response(body={"version": OLLAMA_API_VERSION})

    @face.route("GET", "/api/tags")
    def tags(request: Request) -> Response:
        models = []
        for entry in engine.installed():
            models.append(_listing(entry.alias, entry))
        for name, derived in sorted(engine.derived.items()):
            base = engine.resolve(derived.base)[0]
            item = _listing(name, base)
            item["details"]["parent_model"] = tagged(derived.base)
            item["modified_at"] = datetime.fromtimestamp(derived.created, timezone.utc).isoformat()
            models.append(item)
        return Response(body={"models": models})

    @face.route("POST", "/api/show")
    def show(request: Request) -> Response:
        body = request.json()
        name = _model_name(body)
        try:
            entry, derived = engine.resolve(name)
            info = ModelInfo.of(entry)
        except Exception as exc:
            raise as_http_error(exc) from None
        params = dict(derived.parameters) if derived else {}
        lines = [f"FROM {tagged(derived.base) if derived else info['path']}"]
        if derived and derived.system:
            lines.append(f'SYSTEM """{derived.system}"""')
        for key, value in params.items():
            lines.append(f"PARAMETER {key} {value}")
        for m in (derived.messages if derived else []):
            lines.append(f"MESSAGE {m['role']} {json.dumps(m['content'])}")
        capabilities = ["completion"]
        if entry.kind == "chat":
            capabilities.append("tools")  # the backend constrains calls with a grammar on any chat model
        return Response(body={
            "modelfile": "\n".join(lines) + "\n",
            "parameters": "\n".join(f"{k} {v}" for k, v in params.items()),
            "template": info["template"],
            "system": derived.system if derived and derived.system else "",
            "details": dict(info["details"], parent_model=tagged(derived.base) if derived else ""),
            "model_info": info["model_info"],
            "capabilities": capabilities,
            "modified_at": info["modified_at"],
        })

    @face.route("GET", "/api/ps")
    def ps(request: Request) -> Response:
        running = []
        for slot in engine.loaded():
            entry = engine.resolve(slot.alias)[0]
            running.append({"name": tagged(slot.alias), "model": tagged(slot.alias), "size": slot.size_bytes,
                            "digest": entry.sha256, "details": details(entry),
                            "expires_at": engine.expires_at(slot), "size_vram": 0,
                            "context_length": slot.n_ctx, "purpose": slot.kind})
        return Response(body={"models": running})

    @face.route("POST", "/api/pull")
    def pull(request: Request) -> Response | Stream:
        body = request.json()
        name = _model_name(body)
        stream = field_of(body, "stream", "true or false", default=True)
        try:
            entry, _ = engine.resolve(name)
        except Exception as exc:
            raise as_http_error(exc) from None
        events = _pull_events(entry)
        if stream:
            return Stream("application/x-ndjson", (json.dumps(e).encode() + b"\n" for e in _guard(events)))
        last = {}
        try:
            for last in events:
                pass
        except Exception as exc:
            raise as_http_error(exc) from None
        return Response(body=last)

    @face.route("POST", "/api/create")
    def create(request: Request) -> Response | Stream:
        body = request.json()
        name = _model_name(body)
        for refused in ("files", "adapters", "quantize", "template", "license"):
            if body.get(refused):
                raise HTTPError(400, f"'{refused}' is not supported by course serve: a created model is a served "
                                     "model plus a system prompt, example messages and default parameters")
        base = field_of(body, "from", "a string", required=True)
        system = field_of(body, "system", "a string")
        parameters = field_of(body, "parameters", "an object", default={})
        messages = field_of(body, "messages", "a list", default=[])
        for i, m in enumerate(messages):
            if not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant") \
                    or not isinstance(m.get("content"), str):
                raise HTTPError(400, f"messages[{i}] must be an object with a role (system, user or assistant) "
                                     "and a string content")
        try:
            check_options(parameters, where="parameters")
            entry, parent = engine.resolve(base)
        except Exception as exc:
            raise as_http_error(exc) from None
        key = engine.canonical(name)
        if key in engine.aliases:
            raise HTTPError(400, f"'{name}' is a registry model: give the new model another name")
        if parent is not None:  # deriving from a derived model: flatten onto its base
            system = system if system is not None else parent.system
            parameters = {**parent.parameters, **parameters}
            messages = list(parent.messages) + messages
        engine.derived[key] = Derived(key, entry.alias, system, dict(parameters),
                                      [{"role": m["role"], "content": m["content"]} for m in messages])
        statuses = [{"status": "using existing layer sha256:" + entry.sha256}, {"status": "writing manifest"},
                    {"status": "success"}]
        if field_of(body, "stream", "true or false", default=True):
            return Stream("application/x-ndjson", (json.dumps(s).encode() + b"\n" for s in statuses))
        return Response(body=statuses[-1])

    @face.route("DELETE", "/api/delete")
    def delete(request: Request) -> Response:
        body = request.json()
        name = engine.canonical(_model_name(body))
        if name in engine.aliases:
            raise HTTPError(400, f"'{name}' comes from an installed package: uninstall the package to remove it")
        if engine.derived.pop(name, None) is None:
            raise HTTPError(404, f"model '{name}' not found")
        return Response(body={})

    @face.route("POST", "/api/chat")
    def chat(request: Request) -> Response | Stream:
        body = request.json()
        spec, stream, ignored = _chat_spec(body)
        if not spec.messages:
            return _load_or_unload(spec, body, "message")
        return _reply(engine, spec, stream, ignored, chat=True, client_gone=request.client_gone)

    @face.route("POST", "/api/generate")
    def generate_(request: Request) -> Response | Stream:
        body = request.json()
        spec, stream, ignored = _generate_spec(body, engine)
        if spec.prompt is None and spec.messages is None:
            return _load_or_unload(spec, body, "response")
        return _reply(engine, spec, stream, ignored, chat=False, client_gone=request.client_gone)

    @face.route("POST", "/api/embed")
    def embed_(request: Request) -> Response:
        body = request.json()
        name = _model_name(body)
        texts = body.get("input")
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            raise HTTPError(400, "'input' must be a string or a non-empty list of strings")
        if body.get("dimensions") is not None:
            raise HTTPError(400, "'dimensions' is not supported: these models have one embedding size")
        truncate = field_of(body, "truncate", "true or false", default=True)
        start = time.perf_counter()
        try:
            keep = parse_keep_alive(body.get("keep_alive"))
            vectors, tokens, load_s = embed(engine, name, texts, truncate=truncate, keep_alive=keep)
        except Exception as exc:
            raise as_http_error(exc) from None
        return Response(body={"model": name, "embeddings": vectors, "total_duration": _ns(time.perf_counter() - start),
                              "load_duration": _ns(load_s), "prompt_eval_count": tokens})

    @face.route("POST", "/api/embeddings")
    def embeddings_legacy(request: Request) -> Response:
        body = request.json()
        name = _model_name(body)
        prompt = field_of(body, "prompt", "a string", required=True)
        try:
            vectors, _, _ = embed(engine, name, [prompt])
        except Exception as exc:
            raise as_http_error(exc) from None
        return Response(body={"embedding": vectors[0]})

    def _listing(name: str, entry: ModelEntry) -> dict:
        installed = installed_at(entry.alias)  # stable from one listing to the next, as Ollama's file times are
        when = datetime.fromtimestamp(installed, timezone.utc).isoformat() if installed else now_rfc3339()
        return {"name": tagged(name), "model": tagged(name), "modified_at": when, "size": entry.size_bytes,
                "digest": entry.sha256, "details": details(entry)}

    def _load_or_unload(spec: GenerationSpec, body: dict, text_field: str) -> Response:
        """Ollama's empty request: load the model (or unload it with ``keep_alive: 0``)."""
        try:
            if spec.keep_alive == 0:
                engine.unload(spec.model)
                reason = "unload"
            else:
                engine.load(spec.model, n_ctx=spec.n_ctx, keep_alive=spec.keep_alive)
                reason = "load"
        except Exception as exc:
            raise as_http_error(exc) from None
        reply: dict[str, Any] = {"model": spec.model, "created_at": now_rfc3339(), "done": True,
                                 "done_reason": reason}
        reply["message" if text_field == "message" else "response"] = (
            {"role": "assistant", "content": ""} if text_field == "message" else "")
        return Response(body=reply)

    return face


# -- requests -------------------------------------------------------------------
def _model_name(body: dict) -> str:
    # "name" is the older spelling of "model" that Ollama still accepts (the source material uses it)
    name = body.get("model", body.get("name"))
    if not isinstance(name, str) or not name.strip():
        raise HTTPError(400, "'model' is required: the name of a model `GET /api/tags` lists")
    return name.strip()


def _common(body: dict, spec: GenerationSpec) -> tuple[bool, list[str]]:
    """The fields chat and generate share: stream, format, options, keep_alive."""
    stream = field_of(body, "stream", "true or false", default=True)
    fmt = body.get("format")
    if fmt in (None, ""):
        spec.response_format = None
    elif fmt == "json":
        spec.response_format = {"type": "json_object"}
    elif isinstance(fmt, dict):
        spec.response_format = json_schema_format(fmt)
    else:
        raise HTTPError(400, f"'format' must be \"json\" or a JSON schema object, got {json.dumps(fmt)[:60]}")
    if body.get("images"):
        raise HTTPError(400, "'images' are not supported: the course's models read text only")
    if body.get("think"):
        raise HTTPError(400, "'think' is not supported: the course's models do not separate their reasoning")
    try:
        spec.keep_alive = parse_keep_alive(body.get("keep_alive"))
        options, ignored = check_options(body.get("options"))
    except ValueError as exc:
        raise HTTPError(400, str(exc)) from None
    apply_options(spec, options)
    return stream, ignored


def _chat_spec(body: dict) -> tuple[GenerationSpec, bool, list[str]]:
    spec = GenerationSpec(model=_model_name(body))
    messages = field_of(body, "messages", "a list", default=[])
    spec.messages = [_openai_message(m, i) for i, m in enumerate(messages)]
    tools = field_of(body, "tools", "a list", default=[])
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict) or not isinstance(tool.get("function"), dict) \
                or not isinstance(tool["function"].get("name"), str):
            raise HTTPError(400, f"tools[{i}] must be {{\"type\": \"function\", \"function\": {{\"name\": ..., "
                                 "\"description\": ..., \"parameters\": {...}}}")
    spec.tools = [{"type": "function", "function": t["function"]} for t in tools]
    stream, ignored = _common(body, spec)
    if spec.tools and spec.response_format:
        raise HTTPError(400, "'format' and 'tools' cannot be combined here: a reply is either a call or a document")
    return spec, stream, ignored


def _openai_message(m: Any, i: int) -> dict:
    """An Ollama message in the OpenAI shape the backends read (arguments as JSON text, ids for tool results)."""
    if not isinstance(m, dict):
        raise HTTPError(400, f"messages[{i}] must be an object with a role and content")
    role = m.get("role")
    if role not in ("system", "user", "assistant", "tool"):
        raise HTTPError(400, f"messages[{i}].role must be system, user, assistant or tool, got {json.dumps(role)}")
    content = m.get("content", "")
    if content is not None and not isinstance(content, str):
        raise HTTPError(400, f"messages[{i}].content must be a string")
    if m.get("images"):
        raise HTTPError(400, f"messages[{i}].images: the course's models read text only")
    out: dict[str, Any] = {"role": role, "content": content or ""}
    if role == "assistant" and m.get("tool_calls"):
        if not isinstance(m["tool_calls"], list):
            raise HTTPError(400, f"messages[{i}].tool_calls must be a list of {{\"function\": {{\"name\": ..., "
                                 "\"arguments\": {...}}}")
        calls = []
        for j, call in enumerate(m["tool_calls"]):
            fn = call.get("function") if isinstance(call, dict) else None
            if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
                raise HTTPError(400, f"messages[{i}].tool_calls[{j}] must have function.name and function.arguments")
            args = fn.get("arguments", {})
            if not isinstance(args, dict):
                raise HTTPError(400, f"messages[{i}].tool_calls[{j}].function.arguments must be an object "
                                     "(Ollama sends arguments as JSON objects, not as text)")
            calls.append({"id": f"call_{i}_{j}", "type": "function",
                          "function": {"name": fn["name"], "arguments": json.dumps(args)}})
        out["tool_calls"] = calls
    if role == "tool":
        out["tool_call_id"] = f"tool_{i}"
        out["name"] = m.get("tool_name") or m.get("name") or "the tool"
    return out


def _generate_spec(body: dict, engine: Engine) -> tuple[GenerationSpec, bool, list[str]]:
    spec = GenerationSpec(model=_model_name(body))
    prompt = field_of(body, "prompt", "a string")
    system = field_of(body, "system", "a string")
    raw = field_of(body, "raw", "true or false", default=False)
    for refused, why in (("suffix", "fill-in-the-middle needs a model trained for it"),
                         ("template", "the model's own template from its GGUF file is used"),
                         ("context", "it is deprecated: send the conversation to /api/chat instead")):
        if body.get(refused):
            raise HTTPError(400, f"'{refused}' is not supported: {why}")
    stream, ignored = _common(body, spec)
    if prompt:
        try:
            entry, _ = engine.resolve(spec.model)
        except Exception as exc:
            raise as_http_error(exc) from None
        if raw or entry.kind != "chat":
            spec.prompt = (system + "\n\n" + prompt) if system and not raw else prompt
        else:
            spec.messages = ([{"role": "system", "content": system}] if system else []) + \
                [{"role": "user", "content": prompt}]
    return spec, stream, ignored


# -- replies --------------------------------------------------------------------
def _ns(seconds: float) -> int:
    return int(round(seconds * NS))


def _final(response: ChatResponse, load_s: float, base: dict) -> dict:
    t = response.timings
    ttft = t.ttft_s if t.ttft_s is not None else t.total_s
    return dict(base, done=True, done_reason="length" if response.finish_reason == "length" else "stop",
                total_duration=_ns(load_s + t.total_s), load_duration=_ns(load_s),
                prompt_eval_count=response.usage.prompt_tokens, prompt_eval_duration=_ns(ttft),
                eval_count=response.usage.completion_tokens, eval_duration=_ns(max(0.0, t.total_s - ttft)))


def _tool_calls(response: ChatResponse) -> tuple[list[dict], str]:
    """Calls with object arguments; a call whose arguments are not a JSON object goes back as text."""
    calls, text = [], []
    for i, call in enumerate(response.tool_calls):
        try:
            args = json.loads(call.arguments or "{}")
        except json.JSONDecodeError:
            args = None
        if isinstance(args, dict):
            calls.append({"id": f"call_{i}", "function": {"index": i, "name": call.name, "arguments": args}})
        else:
            text.append(f"{call.name}: {call.arguments}")
    return calls, "\n".join(text)


def _pieces(events: Iterator[Any], model: str, chat: bool) -> Iterator[dict]:
    """NDJSON objects of a chat or generate reply."""
    load_s = 0.0
    for event in events:
        base = {"model": model, "created_at": now_rfc3339()}
        if isinstance(event, Started):
            load_s = event.load_s
            continue
        assert isinstance(event, ChatChunk)
        if event.content:
            yield dict(base, **({"message": {"role": "assistant", "content": event.content}} if chat
                                else {"response": event.content}), done=False)
        if event.response is not None:
            response = event.response
            calls, text = _tool_calls(response)
            if chat and (calls or text):
                message: dict[str, Any] = {"role": "assistant", "content": text}
                if calls:
                    message["tool_calls"] = calls
                yield dict(base, message=message, done=False)
            end = {"message": {"role": "assistant", "content": ""}} if chat else {"response": ""}
            yield _final(response, load_s, dict(base, **end))


def _guard(objects: Iterator[dict]) -> Iterator[dict]:
    """Turn an error into Ollama's error shape: a 4xx before the first line, an ``error`` line after it."""
    sent = False
    try:
        for obj in objects:
            sent = True
            yield obj
    except Exception as exc:
        http = as_http_error(exc)
        if not sent:
            raise http from None
        yield {"error": http.message}
    finally:
        objects.close()


def _reply(engine: Engine, spec: GenerationSpec, stream: bool, ignored: list[str], *, chat: bool,
           client_gone: Callable[[], bool] | None = None):
    if ignored:
        engine.events.append(f"ignored options {ignored} for {spec.model}")
    events = generate(engine, spec, client_gone=None if stream else client_gone)
    if stream:
        return Stream("application/x-ndjson", (json.dumps(o).encode() + b"\n"
                                               for o in _guard(_pieces(events, spec.model, chat))))
    text, calls, final = [], [], None
    try:
        for obj in _pieces(events, spec.model, chat):
            if obj.get("done"):
                final = obj
            elif chat:
                text.append(obj["message"]["content"])
                calls.extend(obj["message"].get("tool_calls", []))
            else:
                text.append(obj["response"])
    except Exception as exc:
        raise as_http_error(exc) from None
    finally:
        events.close()
    assert final is not None
    if chat:
        final["message"] = {"role": "assistant", "content": "".join(text)}
        if calls:
            final["message"]["tool_calls"] = calls
    else:
        final["response"] = "".join(text)
    headers = {"X-Course-Ignored-Options": ",".join(ignored)} if ignored else {}
    return Response(body=final, headers=headers)


def _pull_events(entry: ModelEntry) -> Iterator[dict]:
    """Ollama's pull statuses for resolving ``entry`` from the installed packages.

    The progress is real: bytes joined from chunk packages, then bytes hashed
    to check the sha256 the registry records.
    """
    digest = "sha256:" + entry.sha256
    yield {"status": "pulling manifest"}
    progress: list[tuple[int, int]] = []
    done = threading.Event()
    error: list[BaseException] = []

    def work() -> None:
        try:
            model_path(entry.alias, progress=lambda d, t: progress.append((d, t)))
        except BaseException as exc:  # reported on the stream below
            error.append(exc)
        finally:
            done.set()

    threading.Thread(target=work, daemon=True).start()
    total = entry.size_bytes
    last_sent = -1
    while not done.wait(0.25):
        if progress and progress[-1][0] != last_sent:
            last_sent = progress[-1][0]
            yield {"status": f"pulling {entry.sha256[:12]}", "digest": digest, "total": total,
                   "completed": min(last_sent, total)}
    if error:
        raise error[0]
    yield {"status": f"pulling {entry.sha256[:12]}", "digest": digest, "total": total, "completed": total}
    yield {"status": "verifying sha256 digest"}
    yield {"status": "writing manifest"}
    yield {"status": "success"}

