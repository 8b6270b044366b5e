"""The same prompts and the same agent task on llama.cpp (GGUF Q4_1) and Foundry Local (ONNX int4).

Both files come from the same source weights (SmolLM2-135M-Instruct; the ONNX
one by way of :mod:`course.foundry.prepare`). Each runtime is measured in a
child process of its own, so resident memory is that runtime's alone:

- load time (model file to ready), resident memory before and after loading;
- per prompt (greedy, ``max_tokens`` each): time to first token, tokens per
  second after the first, and the answer;
- the lesson 00 agent task (the clock tool) on each: the answer and the tool
  calls made;
- whether the two answers agree: the same text, or the same first sentence;
- where they start differently, why: the GGUF model's probability of each
  runtime's first token (Foundry Local reports no probabilities, so both are
  read from llama.cpp). Two near-equal first tokens mean a near tie that the
  second quantization can flip; greedy decoding then follows different paths.

``course bench foundry`` prints the table; nothing here is a fixed figure.
"""

from __future__ import annotations

import json
import re
import statistics
import sys
from dataclasses import asdict, dataclass

from ..child import run_python

PROMPTS = ["What is the capital of France?", "Name three primary colours.", "What is 12 + 30?"]
AGENT_TASK = "What time is it in Paris right now?"


@dataclass
class RuntimeRun:
    runtime: str
    model_file: str
    load_s: float
    rss_before: int
    rss_after_load: int
    ttft_s: list[float]
    tokens_per_s: list[float]
    answers: list[str]
    agent_answer: str | None
    agent_tools: list[str]

    @property
    def rss_model(self) -> int:
        return self.rss_after_load - self.rss_before


@dataclass
class Comparison:
    prompts: list[str]
    runs: list[RuntimeRun]
    agree: list[bool]
    first_tokens: list[dict]  # per prompt: each runtime's first token and its probability under the GGUF model

    def to_dict(self) -> dict:
        data = asdict(self)
        for run, d in zip(self.runs, data["runs"]):
            d["rss_model"] = run.rss_model
            d["median_ttft_s"] = statistics.median(run.ttft_s)
            d["median_tokens_per_s"] = statistics.median(run.tokens_per_s)
        return data


def _first_sentence(text: str) -> str:
    return re.split(r"[.\n]", text.strip(), maxsplit=1)[0].strip().lower()


def agree(a: str, b: str) -> bool:
    return a.strip() == b.strip() or (bool(_first_sentence(a)) and _first_sentence(a) == _first_sentence(b))


def first_token_odds(backend, prompt: str, answers: dict[str, str]) -> dict:
    """Each runtime's first token of its answer to ``prompt``, with its probability under ``backend`` (llama.cpp)."""
    import math

    firsts = {}
    for runtime, answer in answers.items():
        tokens = backend.llm.tokenize(answer.encode(), add_bos=False, special=False)
        firsts[runtime] = backend.llm.detokenize(tokens[:1]).decode(errors="replace") if tokens else ""
    labels = sorted({t for t in firsts.values() if t})
    odds = backend.label_logprobs([{"role": "user", "content": prompt}], labels) if labels else {}
    return {runtime: {"token": tok, "p": math.exp(odds[tok]) if tok else None} for runtime, tok in firsts.items()}


def measure(runtime: str, max_tokens: int, others: list[str] | None = None) -> dict:
    """Run in the child: load, the prompts, the agent task; returns plain data. ``others``: the other
    runtime's answers, whose first tokens the llama.cpp run weighs beside its own."""
    import time

    from ..agent import Agent
    from ..tools.clock import get_current_time
    from ..observability import resident_bytes

    before = resident_bytes() or 0
    start = time.perf_counter()
    if runtime == "llama.cpp":
        from ..backends.llama_cpp import LlamaCppBackend

        backend = LlamaCppBackend("smollm2-135m")
        model_file = backend.path.name
    else:
        from .prepare import onnx_folder
        from .runtime import FoundryLocalBackend

        backend = FoundryLocalBackend("smollm2-135m")
        model_file = f"{onnx_folder('smollm2-135m').name}/model.onnx"
    load_s = time.perf_counter() - start
    after = resident_bytes() or 0
    ttft, rates, answers = [], [], []
    for prompt in PROMPTS:
        reply = backend.chat([{"role": "user", "content": prompt}], temperature=0, max_tokens=max_tokens)
        ttft.append(reply.timings.ttft_s)
        rates.append(reply.timings.tokens_per_s or 0.0)
        answers.append(reply.content or "")
    result = Agent(backend, [get_current_time], max_steps=3, max_tokens=64).run(AGENT_TASK)
    firsts = [first_token_odds(backend, p, {"llama.cpp": a, "foundry-local": o})
              for p, a, o in zip(PROMPTS, answers, others)] if others and runtime == "llama.cpp" else []
    return {"runtime": runtime, "model_file": model_file, "load_s": load_s, "rss_before": before,
            "rss_after_load": after, "ttft_s": ttft, "tokens_per_s": rates, "answers": answers,
            "agent_answer": result.answer, "agent_tools": [s.call.name for s in result.trace.tool_steps],
            "first_tokens": firsts}


def _run(runtime: str, max_tokens: int, others: list[str] | None = None) -> dict:
    args = ["-m", "course.foundry.compare", runtime, str(max_tokens)] + ([json.dumps(others)] if others else [])
    out, _ = run_python(args, what=f"measuring {runtime}", timeout=600)
    return json.loads(out.strip().splitlines()[-1])


def compare(*, max_tokens: int = 48) -> Comparison:
    """Foundry Local first, then llama.cpp given Foundry's answers (for the first-token odds)."""
    foundry = _run("foundry-local", max_tokens)
    llama = _run("llama.cpp", max_tokens, foundry["answers"])
    firsts = llama.pop("first_tokens")
    foundry.pop("first_tokens")
    runs = [RuntimeRun(**llama), RuntimeRun(**foundry)]
    return Comparison(PROMPTS, runs, [agree(a, b) for a, b in zip(runs[0].answers, runs[1].answers)], firsts)


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3]) if len(sys.argv) > 3 else None)))
