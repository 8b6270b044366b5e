"""Sentence embeddings from a registry model, run by llama.cpp in this process (``course serve``'s
``/api/embed`` and ``/v1/embeddings``)."""

from __future__ import annotations

from ..models import DEFAULT_MODEL, model_path
from .llama_loader import llama_cpp_module, new_llama
from .types import BadRequestError


class LlamaCppEmbedder:
    """Sentence embeddings from a registry model: llama.cpp's mean pooling of the last
    hidden states, L2-normalised. A separate load of the file (``embedding=True``):
    llama.cpp computes either logits or embeddings for a context, not both."""

    def __init__(self, model: str = DEFAULT_MODEL, *, n_ctx: int = 512, n_threads: int | None = None):
        llama_cpp = llama_cpp_module()
        self.model = model
        self.path = model_path(model)
        self.n_ctx = n_ctx
        self.llm = new_llama(self.path, n_ctx=n_ctx, n_threads=n_threads, embedding=True,
                             pooling_type=llama_cpp.LLAMA_POOLING_TYPE_MEAN)

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode(), add_bos=True, special=False))

    def embed(self, texts: list[str], *, truncate: bool = True) -> tuple[list[list[float]], int]:
        """One unit vector per text, and the number of tokens read.

        A text longer than the context is cut to fit when ``truncate`` is set, and
        refused otherwise (Ollama's ``/api/embed`` behaves the same way). A text with no tokens at all (the
        empty string: SmolLM2 adds no start token) is refused: llama.cpp cannot embed nothing, and asking it
        to corrupts its memory."""
        for i, text in enumerate(texts):
            if self.count_tokens(text) == 0:
                raise BadRequestError(f"input {i} is empty: every text to embed needs at least one token")
        with self.llm._course_lock:
            if not truncate:
                for text in texts:
                    n = self.count_tokens(text)
                    if n > self.n_ctx:
                        raise BadRequestError(
                            f"an input of {n} tokens is longer than the context of {self.n_ctx}: "
                            "shorten it, or allow truncation")
            vectors, tokens = self.llm.embed(list(texts), normalize=True, truncate=True, return_count=True)
        return vectors, tokens

    def close(self) -> None:
        if self.llm is not None:
            with self.llm._course_lock:
                self.llm.close()
            self.llm = None
