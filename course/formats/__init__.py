"""Model file formats, read by the course's own code: GGUF (:mod:`.gguf_file`)."""

from .gguf_file import GGUFError, GGUFFile, TensorInfo, read_gguf
from .inspect import summarize

__all__ = ["GGUFError", "GGUFFile", "TensorInfo", "read_gguf", "summarize"]
