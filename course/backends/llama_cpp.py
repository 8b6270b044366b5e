"""In-process llama.cpp backend (llama-cpp-python) with grammar-constrained tool calls.

How a tool call is made reliable on a 135M-parameter model:

1. The prompt is rendered with the model's own chat template from the GGUF file.
   Templates that know tools (Qwen's) get the tools natively and answer with
   ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``. For the others
   (SmolLM2's plain ChatML) the backend describes the tools in the system message
   and asks the reply to start with a decision, the format of llama.cpp's
   ``chatml-function-calling``: ``message:`` then text, or
   ``functions.<name>:`` then that tool's arguments as JSON.
2. For SmolLM2, decoding is constrained by a GBNF grammar compiled from the
   tools' JSON schemas: whatever it decides, a call it writes parses and matches
   its tool's schema. With a forced or required tool choice, a call is the only
   thing it can write. For Qwen in auto mode the reply is parsed and validated
   instead (a grammar over its 152k-token vocabulary halves its decode rate; see
   :meth:`LlamaCppBackend._grammar` and ``course bench grammar``), and a
   malformed call reaches the agent loop as a call with bad arguments, to be
   reported back to the model. ``constrain_tools`` overrides the choice.
3. ``response_format`` with a JSON schema compiles to a grammar the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..models import DEFAULT_MODEL, get_model, model_path
from .base import ChatBackend, ChatStream
from .grammar import schema_grammar_text, tool_call_grammar_text
from .llama_loader import DEFAULT_N_CTX, chat_formatter, default_threads, load_llama, new_llama
from .llama_loader import llama_cpp_module as _llama_cpp
from .stops import StopMatcher, check_stop
from .toolcall_text import parse_decision, parse_tool_calls, template_messages
from .types import BadRequestError, ChatRequest, Delta, Usage


def _log_softmax(logits) -> np.ndarray:
    x = np.asarray(logits, dtype=np.float64)
    x = x - x.max()
    return x - np.log(np.exp(x).sum())


class LlamaCppBackend(ChatBackend):
    """A registry model (or any GGUF file) run in this process by llama.cpp."""

    name = "llama.cpp"
    native_stop = True

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        model_file: str | Path | None = None,
        n_ctx: int = DEFAULT_N_CTX,
        n_threads: int | None = None,
        constrain_tools: bool | None = None,
        shared: bool = True,
        reuse_prefix: bool = False,
        clock=None,
    ):
        """``constrain_tools``: True constrains every tool call with a grammar, False never
        does (replies are parsed and validated), None (default) constrains except for
        templates with native tools in auto mode, where the grammar halves the decode rate.

        ``shared`` (default): backends of the same file and settings in this process share
        one loaded model. ``shared=False`` loads a private copy that :meth:`close` frees,
        which is what a server that unloads idle models needs.

        ``reuse_prefix``: keep the KV cache between requests, so a prompt that begins like the last one is
        evaluated only from where they differ (an agent's next round re-reads only the new messages). Off by
        default: the reused part's logits were computed in other batches, so a greedy reply can differ in a
        rare near-tie from the same prompt run cold, and lessons that compare replies want them exact."""
        super().__init__(clock=clock)
        self.reuse_prefix = reuse_prefix
        self.shared = shared
        self.constrain_tools = constrain_tools
        self.model = model
        self.entry = get_model(model) if model_file is None else None
        self.path = Path(model_file) if model_file else model_path(model)
        self.n_ctx = n_ctx
        self.n_threads = n_threads or default_threads()
        loader = load_llama if shared else new_llama
        self.llm = loader(self.path, n_ctx=n_ctx, n_threads=self.n_threads)
        template = self.llm.metadata.get("tokenizer.chat_template")
        self.native_tools = bool(template and "tools" in template)
        self._formatter = chat_formatter(self.llm)
        self._grammars: dict[str, Any] = {}
        self._no_call_tokens = None
        # set record_logprobs = True to keep, for each greedy (temperature 0) reply without a
        # grammar, the log-probability of every token chosen: ``last_logprobs`` (lesson 05)
        self.record_logprobs = False
        self.last_logprobs: list[float] | None = None

    # -- prompt -------------------------------------------------------------
    def _template_messages(self, request: ChatRequest) -> list[dict]:
        """Messages in the shape the model's template understands."""
        return template_messages(request, native_tools=self.native_tools)

    def render_prompt(self, request: ChatRequest) -> str:
        """The exact text the model reads for ``request``."""
        if self._formatter is None:
            raise BadRequestError(
                f"model '{self.model}' has no chat template (a base model): use "
                "LlamaCppBackend.complete(prompt) for plain completion, or a chat model such as smollm2-135m"
            )
        tools = request.tools if (request.tools_active and self.native_tools) else None
        return self._formatter(messages=self._template_messages(request), tools=tools).prompt

    # -- grammar ------------------------------------------------------------
    def _grammar(self, request: ChatRequest):
        """The compiled grammar that constrains this request's reply, or None."""
        constrain = self.constrain_tools
        if constrain is None:
            # Qwen's template already teaches it the call format, and a grammar over its
            # 152k-token vocabulary halves its decode rate (`course bench grammar`), so
            # by default auto mode parses and validates its reply instead.
            constrain = not (self.native_tools and request.tool_choice == "auto")
        if request.tools_active and not constrain:
            return None
        what = "these tools' parameter schemas" if request.tools_active else "this response_format schema"
        try:
            if request.tools_active:
                tools = request.tools
                if request.forced_tool:
                    tools = [t for t in tools if t["function"]["name"] == request.forced_tool]
                text = tool_call_grammar_text(tools, allow_answer=request.tool_choice == "auto",
                                              tagged=self.native_tools)
            elif request.json_schema is not None:
                text = schema_grammar_text(request.json_schema or {"type": "object"})
            else:
                return None
        except Exception as exc:  # the converter raises assorted errors for schemas it cannot read
            raise BadRequestError(f"cannot turn {what} into a grammar: {type(exc).__name__}: {exc}") from exc
        if text not in self._grammars:
            from llama_cpp import LlamaGrammar

            self._check_grammar(text, what)
            self._grammars[text] = LlamaGrammar.from_string(text, verbose=False)
        return self._grammars[text]

    def _check_grammar(self, text: str, what: str) -> None:
        """Parse ``text`` with llama.cpp's own grammar parser before it is used.

        llama-cpp-python 0.3.36's ``LlamaGrammar.from_string`` does not parse; a
        grammar that does not parse makes the sampler NULL when generation starts,
        and the process dies with a segmentation fault. Building the sampler here
        and checking it turns that into an error the caller can read.
        """
        llama_cpp = _llama_cpp()
        sampler = llama_cpp.llama_sampler_init_grammar(self.llm._model.vocab, text.encode(), b"root")
        if not sampler:
            raise BadRequestError(f"llama.cpp cannot parse the grammar made from {what} (see its log above)")
        llama_cpp.llama_sampler_free(sampler)

    def _call_opening_tokens(self):
        """Ids of the tokens that open a call (``<tool_call>``, ``{``, a code fence).

        Masking them is how tool_choice="none" keeps a model that has seen calls in
        the history from writing one more as text; a mask costs almost nothing per
        token, unlike a grammar over a 152k-token vocabulary. (llama-cpp-python
        0.3.36 drops ``logit_bias`` when a ``logits_processor`` is also given, so the
        mask is applied in the backend's own processor.)
        """
        if self._no_call_tokens is None:
            vocab = self.llm._model
            self._no_call_tokens = np.array([
                token for token in range(self.llm.n_vocab())
                if vocab.token_get_text(token).lstrip(" \u0120\u010a").startswith(("{", "<tool_call>", "```"))
            ], dtype=np.intp)
        return self._no_call_tokens

    # -- generation ---------------------------------------------------------
    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode(), add_bos=False, special=True)) if text else 0

    def label_logprobs(self, messages: list[dict], labels: list[str]) -> dict[str, float]:
        """The log-probability that the model's reply to ``messages`` begins with each label.

        ``log P(label) = sum_i log p(token_i | prompt, tokens before i)``, read from
        llama.cpp's logits: the prompt is evaluated once, then each label's tokens
        one at a time, rewinding to the end of the prompt between labels. This is
        constrained classification with a confidence signal: normalise over the
        labels and the largest share is how sure the model is.
        """
        from .base import normalize_messages

        if not labels or len(set(labels)) != len(labels) or not all(isinstance(x, str) and x for x in labels):
            raise BadRequestError(f"labels must be distinct non-empty strings, got {labels!r:.100}")
        prompt = self.render_prompt(ChatRequest(messages=normalize_messages(messages)))
        prompt_tokens = self.llm.tokenize(prompt.encode(), add_bos=False, special=True)
        label_tokens = {label: self.llm.tokenize(label.encode(), add_bos=False, special=False) for label in labels}
        longest = max(len(t) for t in label_tokens.values())
        if len(prompt_tokens) + longest > self.n_ctx:
            raise BadRequestError(f"the prompt has {len(prompt_tokens)} tokens, too many for the context of {self.n_ctx}")
        out: dict[str, float] = {}
        with self.llm._course_lock:
            self.llm.reset()
            self.llm.eval(prompt_tokens)
            start = self.llm.n_tokens
            first = self._last_logprobs()
            for label, tokens in label_tokens.items():
                self.llm.n_tokens = start  # rewind: eval() drops the KV cache past n_tokens
                total, logprobs = 0.0, first
                for k, token in enumerate(tokens):
                    total += float(logprobs[token])
                    if k + 1 < len(tokens):
                        self.llm.eval([token])
                        logprobs = self._last_logprobs()
                out[label] = total
            self.llm.reset()
        return out

    def _last_logprobs(self) -> np.ndarray:
        """Log-softmax of the logits after the last evaluated token (llama-cpp-python keeps them
        in ``scores`` only with ``logits_all=True``, so they are read from the context)."""
        logits = np.ctypeslib.as_array(self.llm._ctx.get_logits(), shape=(self.llm.n_vocab(),))
        return _log_softmax(logits)

    def room(self, messages: list[dict], *, tools: list | None = None, tool_choice: Any = None) -> int:
        """Tokens left in the context after the prompt these messages render to."""
        from .base import normalize_messages, tool_specs

        specs = tool_specs(tools)
        request = ChatRequest(messages=normalize_messages(messages), tools=specs,
                              tool_choice=(tool_choice or "auto") if specs else None)
        return self.n_ctx - self.count_tokens(self.render_prompt(request))

    def _generate(self, request: ChatRequest) -> Iterator[Delta]:
        prompt = self.render_prompt(request)
        yield from self._run(prompt, request, parse_calls=bool(request.tools))

    def _run(self, prompt: str, request: ChatRequest, *, parse_calls: bool, add_bos: bool = False) -> Iterator[Delta]:
        llama_cpp = _llama_cpp()
        prompt_tokens = self.llm.tokenize(prompt.encode(), add_bos=add_bos, special=True)
        if len(prompt_tokens) + request.max_tokens > self.n_ctx:
            raise BadRequestError(
                f"the prompt has {len(prompt_tokens)} tokens and max_tokens is {request.max_tokens}, "
                f"more than the context of {self.n_ctx}: shorten the conversation or pass a larger n_ctx"
            )
        sampled = [0]
        # tool_choice="none" after tool calls: keep the model from writing another call as text
        banned = self._call_opening_tokens() if (request.tools and request.tool_choice == "none") else None
        grammar = self._grammar(request)
        # greedy and unconstrained, the token chosen is the largest logit: its log-probability
        # is max - logsumexp, known before it is sampled
        chosen = [] if (self.record_logprobs and request.temperature == 0 and grammar is None) else None
        self.last_logprobs = chosen

        def count(_ids, scores):  # called once per sampled token: an exact count
            sampled[0] += 1
            if banned is not None:
                scores[banned] = -np.inf
            if chosen is not None:
                top = float(scores.max())
                chosen.append(-float(np.log(np.exp(scores - top).sum())))
            return scores

        kwargs: dict[str, Any] = dict(
            prompt=prompt_tokens,
            max_tokens=request.max_tokens,
            temperature=request.temperature,
            stream=True,
            grammar=grammar,
            logits_processor=llama_cpp.LogitsProcessorList([count]),
        )
        if request.seed is not None:
            kwargs["seed"] = request.seed
        text = []
        finish = "stop"
        stops = StopMatcher(request.stop)  # here, not in llama-cpp-python: the count of sampled tokens stays exact
        with self.llm._course_lock:
            if not self.reuse_prefix:
                self.llm.reset()  # llama-cpp-python reuses the longest common prefix otherwise
            before = 0
            completion = self.llm.create_completion(**kwargs)
            try:
                for chunk in completion:
                    choice = chunk["choices"][0]
                    piece = stops.feed(choice.get("text") or "")
                    new_tokens, before = sampled[0] - before, sampled[0]
                    if piece:
                        text.append(piece)
                    if piece and not parse_calls:
                        yield Delta(content=piece, tokens=new_tokens)
                    elif new_tokens:
                        yield Delta(tokens=new_tokens)  # calls are only known once complete
                    if stops.hit:
                        finish = "stop sequence"  # its last token is part of the reply's count
                        break
                    if choice.get("finish_reason"):
                        finish = choice["finish_reason"]
            finally:
                completion.close()  # stop generating, inside the lock
        rest = stops.flush()
        if rest:
            text.append(rest)
            if not parse_calls:
                yield Delta(content=rest)
        # the end-of-generation token is sampled but is not part of the reply
        completion_tokens = max(0, sampled[0] - (1 if finish == "stop" else 0))
        usage = Usage(prompt_tokens=len(prompt_tokens), completion_tokens=completion_tokens)
        full = "".join(text)
        if parse_calls:
            if request.tool_choice == "none":
                answer, calls = full, []
            elif self.native_tools:
                answer, calls = full, parse_tool_calls(full, [t["function"]["name"] for t in request.tools])
            else:
                answer, calls = parse_decision(full)
            if calls:
                yield Delta(tool_calls=calls, finish_reason="tool_calls", usage=usage)
                return
            yield Delta(content=answer)
        yield Delta(finish_reason="length" if finish == "length" else "stop", usage=usage)

    def close(self) -> None:
        """Free a private model (``shared=False``); a shared one stays for the other backends."""
        if not self.shared and self.llm is not None:
            with self.llm._course_lock:
                self.llm.close()
            self.llm = None

    def complete_stream(self, prompt: str, *, max_tokens: int = 64, temperature: float = 0.0,
                        seed: int | None = None, response_format: dict | None = None,
                        stop: str | list[str] | None = None) -> ChatStream:
        """Plain text completion of ``prompt`` exactly as given (no chat template), streamed.

        For base models such as gemma3-270m, and for Ollama's ``raw`` generate requests.
        ``response_format`` constrains the text to a JSON schema, as in :meth:`stream`."""
        from .base import _check_response_format

        _check_response_format(response_format)
        if not isinstance(max_tokens, int) or max_tokens < 1:
            raise BadRequestError(f"max_tokens must be a positive integer, got {max_tokens!r}")
        request = ChatRequest(messages=[{"role": "user", "content": prompt}], temperature=temperature,
                              seed=seed, max_tokens=max_tokens, response_format=response_format,
                              stop=check_stop(stop))
        # a chat template writes the BOS token itself; a plain prompt gets it as llama.cpp's own
        # completion adds it, when the model asks for one (Gemma does, SmolLM2 does not)
        add_bos = bool(self.llm.metadata.get("tokenizer.ggml.add_bos_token") == "true")
        return ChatStream(self._chunks(request, self._run(prompt, request, parse_calls=False, add_bos=add_bos)))

    def complete(self, prompt: str, *, max_tokens: int = 64, temperature: float = 0.0, seed: int | None = None):
        """Plain text completion (for base models such as gemma3-270m); returns a ChatResponse."""
        return self.complete_stream(prompt, max_tokens=max_tokens, temperature=temperature, seed=seed).collect()
