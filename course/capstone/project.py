"""The capstone project (lesson 11): a scaffold per application area, and the harness run on a learner's agent.

A project is one Python file, ``exercises/l11_capstone/capstone.py``, with
``AREA`` (one of :data:`AREAS`) and ``build(local, cloud=None) -> (agent,
world)``. ``course capstone new AREA`` writes the scaffold of an area there;
``course check l11`` grades it (the tests in ``autograder/l11_capstone/``)
with :func:`run_project`: the area's tasks, the simulated small model
(:mod:`course.capstone.simulated`) and the fake cloud, or a real model.
"""

from __future__ import annotations

import ast
import shutil
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import ModuleType

from ..backends.base import ChatBackend
from ..backends.types import BackendError, ChatRequest, Delta
from .agents import AGENTS
from .cloud import TaskCloud
from .evaluate import EvalReport, evaluate
from .simulated import SimulatedSLM
from .tasks import Task, load_tasks, public_tasks


@dataclass(frozen=True)
class Area:
    name: str
    agent: str  # the reference agent whose world, tools and tasks the area uses
    scaffold: str  # file in data/scaffolds/
    what: str


AREAS = {
    "customer-service": Area("customer-service", "kiosk", "customer_service.py",
                             "a store's self-service kiosk: products, stock, prices, hours, directions, staff"),
    "healthcare": Area("healthcare", "clinic", "healthcare.py",
                       "a clinic's front desk: slots, bookings, leaflets, clinicians; no diagnosis, no doses"),
}
# the source's other application areas: no world, tools or tasks shipped for them yet
NOT_YET = ("business-process", "personal-assistant", "finance")
# what a project may not import: the reference agents and their rules
FORBIDDEN = {"kiosk_agent", "clinic_agent", "kiosk_follow_up", "clinic_follow_up", "course.capstone.triage",
             "KIOSK_RULES", "CLINIC_RULES"}


class ProjectError(ValueError):
    """A capstone project that cannot be graded as it is; the message says what to change."""


def area(name: str) -> Area:
    if name in AREAS:
        return AREAS[name]
    if name in NOT_YET:
        raise ProjectError(f"the area {name!r} is one of the source's, but the course ships no world, tools or "
                           f"tasks for it yet: choose {' or '.join(AREAS)}")
    raise ProjectError(f"unknown area {name!r}: choose {' or '.join(AREAS)}")


def scaffold(name: str) -> str:
    """The starting file of an area's project."""
    return (resources.files("course.capstone") / "data" / "scaffolds" / area(name).scaffold).read_text("utf-8")


def new_project(name: str, path: Path, *, force: bool = False, stub: str | None = None) -> Path | None:
    """Write the scaffold of area ``name`` to ``path``. A file that holds work (not ``stub``, the exercise's
    untouched start, nor an untouched scaffold) is refused without ``force``, and with it kept as
    ``<name>.<time>.bak`` first. Returns the backup's path, if one was made."""
    text = scaffold(name)
    backup = None
    if path.exists():
        current = path.read_text(encoding="utf-8")
        untouched = {stub, *(scaffold(a) for a in AREAS)}  # the exercise's start, or any area's
        if current not in untouched and current.strip():
            if not force:
                raise ProjectError(f"{path} already holds your work: pass --force to keep it as a backup and "
                                   "start again from the scaffold")
            backup = path.with_name(f"{path.name}.{time.strftime('%Y%m%d-%H%M%S')}.bak")
            shutil.copy2(path, backup)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return backup


def load_project(path: Path | None = None) -> ModuleType:
    """The capstone file as a module (default: the course's ``exercises/l11_capstone/capstone.py``)."""
    import importlib.util

    if path is None:
        from ..exercises.meta import load_course

        course = load_course()
        path = course.exercises_dir / course.lesson("l11").slug / "capstone.py"
    path = Path(path)
    if not path.is_file():
        raise ProjectError(f"no capstone file at {path}: run `course capstone new AREA` to start one")
    spec = importlib.util.spec_from_file_location("capstone_project", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise ProjectError(f"{path} does not import: {type(exc).__name__}: {exc}") from exc
    return module


def check_project(module: ModuleType) -> Area:
    """The project's area, once it is known to be gradable: ``AREA`` names an area, ``build`` is callable, and
    the source imports none of the reference agents."""
    name = getattr(module, "AREA", None)
    if not isinstance(name, str):
        raise ProjectError("capstone.py must set AREA to one of: " + ", ".join(AREAS)
                           + " (run `course capstone new AREA` for a start)")
    chosen = area(name)
    if not callable(getattr(module, "build", None)):
        raise ProjectError("capstone.py must define build(local, cloud=None) returning (agent, world)")
    source = Path(module.__file__).read_text(encoding="utf-8") if getattr(module, "__file__", None) else ""
    used = _names(source) & FORBIDDEN
    if used:
        raise ProjectError(f"capstone.py uses {', '.join(sorted(used))}: the reference agents and their rules "
                           "are what the project is compared with; build your own from the course's parts")
    return chosen


def _names(source: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            names.add(node.module or "")
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.Name):
            names.add(node.id)
    return names


def area_tasks(name: str, path: Path | None = None) -> list[Task]:
    chosen = area(name)
    tools = set(AGENTS[chosen.agent][2])
    return load_tasks(path or public_tasks(chosen.agent), tools=tools)


class OverTokenBudget(BackendError):
    """A request's generated tokens went over the budget; generation was stopped there."""


class TokenBudget(ChatBackend):
    """``inner`` with a budget of generated tokens per request (per agent built, see :func:`run_project`): each
    call's ``max_tokens`` is cut to what is left plus one, so an agent that asks for long answers is stopped
    after one token over the budget instead of after minutes; the next call raises :class:`OverTokenBudget`."""

    def __init__(self, inner: ChatBackend, tokens: int):
        super().__init__()
        self.inner, self.tokens, self.used = inner, tokens, 0
        self.name, self.model = inner.name, getattr(inner, "model", inner.name)
        self.over = 0  # requests that went over

    def reset(self) -> None:
        self.used = 0

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def _generate(self, request: ChatRequest):
        left = self.tokens - self.used
        if left < 0:
            raise OverTokenBudget(f"over the budget of {self.tokens} generated tokens for one request")
        reply = self.inner.chat(request.messages, tools=request.tools or None, tool_choice=request.tool_choice,
                                response_format=request.response_format, temperature=request.temperature,
                                seed=request.seed, max_tokens=min(request.max_tokens, left + 1),
                                stop=request.stop or None, timeout_s=request.timeout_s)
        self.used += reply.usage.completion_tokens
        if self.used > self.tokens:
            self.over += 1
        if reply.content:
            yield Delta(content=reply.content, tokens=reply.usage.completion_tokens)
        yield Delta(tool_calls=list(reply.tool_calls), finish_reason=reply.finish_reason, usage=reply.usage)


def run_project(module: ModuleType, tasks: list[Task], *, local=None, cloud: str = "on",
                token_budget: int | None = None) -> EvalReport:
    """The harness on a project: ``local`` (default: the simulated small model of these tasks) and the fake
    cloud ``"on"``, ``"cut"`` or ``"none"``. Personal data is checked in every area. With ``token_budget``,
    ``local`` is wrapped in a :class:`TokenBudget` that starts again for each task."""
    chosen = check_project(module)
    handoff = AGENTS[chosen.agent][1]
    fake = None if cloud == "none" else TaskCloud(tasks, handoff)
    if fake is not None and cloud == "cut":
        fake.online = False
    model = local if local is not None else SimulatedSLM(tasks)
    build = module.build
    if token_budget is not None:
        model = TokenBudget(model, token_budget)

        def build(local, cloud=None, _build=module.build, _meter=model):
            _meter.reset()
            return _build(local, cloud=cloud)
    return evaluate(chosen.agent, tasks, model, cloud=fake, build=build, check_privacy=True,
                    model=getattr(model, "model", ""))
