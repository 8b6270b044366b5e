"""The record of an agent run: every model reply and every tool call, in order."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..backends.types import ChatResponse, ToolCall


@dataclass
class ModelStep:
    """One call to the model."""

    response: ChatResponse
    kind: str = "model"

    def summary(self) -> str:
        r = self.response
        what = ", ".join(f"{c.name}({c.arguments})" for c in r.tool_calls) if r.tool_calls else repr(r.content)
        t = r.timings
        rate = f"{t.tokens_per_s:.3g} tok/s" if t.tokens_per_s else "-"
        ttft = f"{t.ttft_s * 1000:.0f} ms" if t.ttft_s is not None else "-"
        return f"model -> {what}  [ttft {ttft}, {rate}, {r.usage.completion_tokens} tokens]"


@dataclass
class ToolStep:
    """One tool call and what came back (a result, or the error the model is shown)."""

    call: ToolCall
    content: str
    ok: bool
    error: str | None = None
    seconds: float = 0.0
    kind: str = "tool"

    def summary(self) -> str:
        status = "repeated, answered from the earlier result" if self.error == "repeated_call" else (
            "ok" if self.ok else "error")
        return f"tool  {self.call.name}({self.call.arguments}) -> {status}: {self.content}"


@dataclass
class Trace:
    """Every step of a run; ``print()`` shows it, ``to_dict()`` serialises it."""

    steps: list[ModelStep | ToolStep] = field(default_factory=list)

    def add(self, step: ModelStep | ToolStep) -> None:
        self.steps.append(step)

    @property
    def model_steps(self) -> list[ModelStep]:
        return [s for s in self.steps if isinstance(s, ModelStep)]

    @property
    def tool_steps(self) -> list[ToolStep]:
        return [s for s in self.steps if isinstance(s, ToolStep)]

    def lines(self) -> list[str]:
        return [f"{i + 1:>2}. {step.summary()}" for i, step in enumerate(self.steps)]

    def print(self, console: Any = None) -> None:
        """Print the trace, with rich when a console is given."""
        for line in self.lines():
            if console is not None:
                console.print(line, markup=False, highlight=False)
            else:
                print(line)

    def to_dict(self) -> list[dict]:
        return [asdict(step) for step in self.steps]
