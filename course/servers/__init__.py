"""Local servers: ``course serve``, one engine over llama.cpp with an OpenAI face and an Ollama face.

- :mod:`.engine`: loading, idle and memory-budget unloading, the first-come queue;
- :mod:`.generation`: what both faces ask of the engine;
- :mod:`.openai_face`, :mod:`.ollama_face`: the two protocols;
- :mod:`.http`: the HTTP plumbing (limits, authentication, streaming);
- :mod:`.serve`: :class:`CourseServer`, the whole thing in one object.
"""

from .engine import Engine, EngineError, FairQueue, parse_keep_alive
from .serve import CourseServer, ExposureError, is_loopback

__all__ = ["CourseServer", "Engine", "EngineError", "ExposureError", "FairQueue", "is_loopback", "parse_keep_alive"]
