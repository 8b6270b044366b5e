"""Foundry Local in this process: the SDK's manager, its local catalog, and a chat backend on it.

``foundry-local-sdk`` 2.x carries Foundry Local's native runtime in its wheel.
The course uses its in-process API, which runs offline:

- :func:`manager` initializes ``FoundryLocalManager`` once per process, with
  its folders under the course cache (no network is needed: the public
  catalog's fetch fails quietly and lists nothing);
- :func:`register` puts a prepared folder in the **local** catalog under its
  model id, or finds it there from an earlier run;
- :class:`FoundryLocalBackend` is a course chat backend on a loaded model:
  each request opens a ``ChatSession``, sends the whole conversation as
  ``MessageItem`` s and reads the reply (streamed or not). Tool calls use the
  course's text protocol (the tools described in the system message, calls
  written as ``functions.NAME:`` and parsed), as for llama.cpp models whose
  template has no tools; Foundry Local has no grammar to constrain them, so a
  malformed call reaches the agent as a malformed call.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

from ..backends.base import ChatBackend
from ..backends.toolcall_text import closing_deltas, template_messages
from ..backends.types import BackendError, BadRequestError, ChatRequest, Delta, Usage
from .prepare import cache_root, is_converted, model_id, onnx_folder

APP_NAME = "edge-agents-course"
_lock = threading.Lock()
_manager = None


class FoundryUnavailableError(BackendError):
    """Foundry Local cannot run here (package missing, model not prepared); the message says what to do."""


def sdk():
    try:
        import foundry_local_sdk
    except ImportError:
        raise FoundryUnavailableError(
            'Foundry Local needs its SDK: pip install -e ".[foundry]" (foundry-local-sdk 2.x, about 22 s)') from None
    return foundry_local_sdk


def manager():
    """The process's ``FoundryLocalManager``, initialized on first use with the course's folders."""
    global _manager
    with _lock:
        if _manager is None:
            f = sdk()
            root = cache_root()
            for sub in ("catalog", "appdata", "logs"):
                (root / sub).mkdir(parents=True, exist_ok=True)
            f.FoundryLocalManager.initialize(f.Configuration(
                app_name=APP_NAME, model_cache_dir=str(root / "catalog"), app_data_dir=str(root / "appdata"),
                logs_dir=str(root / "logs"), log_level=f.LogLevel.ERROR))
            _manager = f.FoundryLocalManager.instance
        return _manager


def local_catalog():
    return manager().get_catalog(sdk().CatalogType.LOCAL)


def register(alias: str):
    """The prepared model's ``IModel`` in the local catalog: registered now, or found from an earlier run."""
    if not is_converted(alias):
        raise FoundryUnavailableError(
            f"{alias} is not prepared for Foundry Local yet: run `course foundry prepare --model {alias}` "
            "(about a minute, once)")
    catalog = local_catalog()
    found = catalog.get_model_variant(model_id(alias))
    if found is not None:
        return found, False
    info = sdk().ModelInfoBuilder()
    info.set_string_property("task", "chat-completion")
    info.set_string_property("alias", alias)
    return catalog.register_model(model_path=str(onnx_folder(alias)), model_id=model_id(alias), metadata=info), True


_ROLES = {"system": "SYSTEM", "developer": "SYSTEM", "user": "USER", "assistant": "ASSISTANT"}


class FoundryLocalBackend(ChatBackend):
    """A prepared registry model, run by Foundry Local's native runtime in this process."""

    name = "foundry-local"

    def __init__(self, model: str = "smollm2-135m", *, clock=None):
        super().__init__(clock=clock)
        self.alias = model
        self.handle, self.registered_now = register(model)
        self.model = self.handle.id
        start = time.perf_counter()
        if not self.handle.is_loaded:
            self.handle.load()
        self.load_s = time.perf_counter() - start
        self._lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        """Foundry Local reports exact usage for replies; for other text, about 4 characters a token."""
        return max(1, round(len(text) / 4)) if text else 0

    def _request(self, request: ChatRequest):
        f = sdk()
        if request.json_schema is not None:
            raise BadRequestError("response_format is not supported by the course's Foundry Local backend")
        session = f.ChatSession(self.handle)
        search = f.SearchOptions(max_output_tokens=request.max_tokens, temperature=request.temperature or None,
                                 do_sample=request.temperature > 0, seed=request.seed)
        session.set_options(f.RequestOptions(search=search))
        req = f.Request()
        for m in template_messages(request, native_tools=False):
            req.add_item(f.MessageItem(getattr(f.MessageRole, _ROLES[m["role"]]), m["content"] or ""))
        return session, req

    def _generate(self, request: ChatRequest) -> Iterator[Delta]:
        f = sdk()
        pieces = []
        with self._lock:  # one generation at a time on a loaded model
            session, req = self._request(request)
            try:
                with session:  # closing it lets unload() free the model
                    session.set_streaming(True)
                    with session.process_streaming_request(req) as stream:
                        for item in stream:
                            text = _text_of(item)
                            if text:
                                pieces.append(text)
                                # calls are known only once complete: count tokens, show no text
                                yield Delta(content="" if request.tools_active else text, tokens=1)
                        final = stream.final_response
                        usage = final.get_usage()
                        finish = "length" if final.finish_reason == f.FinishReason.LENGTH else "stop"
            except f.FoundryLocalException as exc:
                raise BackendError(f"Foundry Local failed: {exc}") from exc
        usage = Usage(usage.prompt_tokens, usage.completion_tokens)
        yield from closing_deltas("".join(pieces), request, finish, usage)

    def close(self) -> None:
        """Unload the model from Foundry Local (the registration stays)."""
        if self.handle.is_loaded:
            self.handle.unload()


def _text_of(item) -> str:
    if hasattr(item, "get_simple_text"):
        try:
            return item.get_simple_text() or ""
        except Exception:  # a message made of non-text parts
            return ""
    return getattr(item, "text", "") or ""
