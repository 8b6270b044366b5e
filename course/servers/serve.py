"""``course serve``: one engine, two protocol faces, on loopback by default.

>>> with CourseServer(port=0) as server:          # doctest: +SKIP
...     client = openai.OpenAI(base_url=server.url + "/v1", api_key="unused")

``port=0`` picks a free port (``server.port`` says which). The server runs in a
background thread of this process; ``course serve`` runs it in the foreground.
"""

from __future__ import annotations

import ipaddress
import threading

from .engine import DEFAULT_KEEP_ALIVE_S, DEFAULT_N_CTX, Engine
from .http import CourseHTTPServer, Face, Response, ServerSettings, eprint
from .metrics import ServeMetrics
from .ollama_face import build_face as ollama_face
from .openai_face import build_face as openai_face

LOOPBACK = ("127.0.0.1", "::1", "localhost")


class ExposureError(ValueError):
    """Binding beyond loopback was asked for without saying so explicitly."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def metrics_face(metrics: ServeMetrics) -> Face:
    """``GET /metrics``: the Prometheus exposition of :class:`ServeMetrics`."""
    face = Face("metrics", ("/metrics",), lambda exc: exc.message)

    @face.route("GET", "/metrics")
    def scrape(request):
        body, ctype = metrics.render()
        return Response(200, body, {"Content-Type": ctype})

    return face


class CourseServer:
    """The engine and the HTTP server together; a context manager that always stops both."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 11434, models: list[str] | None = None,
                 api_key: str | None = None, allow_remote: bool = False, n_ctx: int = DEFAULT_N_CTX,
                 keep_alive_s: float = DEFAULT_KEEP_ALIVE_S, memory_budget: int | None = None,
                 max_body: int | None = None, timeout: float | None = None, max_open: int | None = None, log=None,
                 record: list | None = None, engine: Engine | None = None):
        if not is_loopback(host) and not allow_remote:
            raise ExposureError(
                f"refusing to listen on {host}: other machines could reach the models. "
                "Pass --allow-remote (and an --api-key) if that is what you want")
        if api_key is not None and not api_key.strip():
            raise ExposureError("an empty API key would let every request in: give a key, or leave --api-key "
                                "(and COURSE_API_KEY) out to serve without one")
        self.engine = engine or Engine(models, n_ctx=n_ctx, keep_alive_s=keep_alive_s, memory_budget=memory_budget)
        self.metrics = ServeMetrics(self.engine)
        self.engine.metrics = self.metrics
        settings = ServerSettings(api_key=api_key, log=log, record=record, metrics=self.metrics)
        if max_body:
            settings.max_body = max_body
        if timeout:
            settings.timeout = timeout  # for an idle connection and a request's headers, then for its body
        if max_open:
            settings.max_open = max_open
        # the OpenAI face first: its prefix is specific; the Ollama face also answers "/"
        self.httpd = CourseHTTPServer((host, port), [metrics_face(self.metrics), openai_face(self.engine),
                                                     ollama_face(self.engine)], settings)
        self.host = host
        self.port = self.httpd.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> CourseServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                        daemon=True, name="course-serve")
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        try:
            self.httpd.serve_forever(poll_interval=0.2)
        finally:
            self.close()

    def drain(self, grace: float = 10.0) -> int:
        """Stop gracefully: refuse new requests (503), give those in flight ``grace`` seconds to finish, then
        cut off the rest (a stream ends with its proper terminator, a reply not yet sent is a 503), stop the
        server and unload the models. Returns how many requests were cut off."""
        self.httpd.draining.set()
        cut = 0
        if not self.httpd.wait_idle(grace):
            cut = self.httpd.active
            self.httpd.cancelled.set()  # each in-flight request stops at its next token
            self.httpd.wait_idle(5.0)
        self.close()
        return cut

    def close(self) -> None:
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self.httpd.server_close()
        self.engine.close()

    def __enter__(self) -> CourseServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["CourseServer", "ExposureError", "eprint", "is_loopback"]
