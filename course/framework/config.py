"""Deployment files: the source's single-device and distributed-edge YAML, checked before anything starts.

A deployment file says which models run, which agents use them with which
tools, what resources they may take, where the cloud is, and (for a
distributed edge) which node runs which agents. :func:`check_deployment`
returns every problem at once, each with its path in the file
(``agents[1].model``), so a typo is a line of output, not a crash an hour into
a rollout. :func:`load_deployment` reads a file and raises
:class:`DeploymentError` listing them.

The structure is checked with the course's JSON Schema validator (the one that
checks a model's tool arguments, :func:`course.tools.check_value`); references
between sections and value ranges are checked here.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

from ..tools.validation import check_value

_STR = {"type": "string"}
_NUM = {"type": "number"}
_INT = {"type": "integer"}


def _obj(properties: dict, required: list[str]) -> dict:
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


SCHEMA = _obj({
    "deployment": _obj({"name": _STR, "mode": _STR,
                        "device": _obj({"memory_mb": _INT, "threads": _INT}, [])}, ["name", "mode"]),
    "models": {"type": "array", "items": _obj({"name": _STR, "model": _STR, "n_ctx": _INT, "purpose": _STR},
                                              ["name", "model"])},
    "agents": {"type": "array", "items": _obj({
        "name": _STR, "model": _STR, "instructions": _STR, "tools": {"type": "array", "items": _STR},
        "role": _STR, "max_steps": _INT, "escalate_to_cloud": {"type": "boolean"}}, ["name", "model"])},
    "resources": _obj({"memory_budget_mb": _INT, "idle_unload_s": _NUM, "max_concurrent_agents": _INT}, []),
    "cloud": _obj({"endpoint": _STR, "model": _STR, "timeout_s": _NUM, "api_key_env": _STR,
                   "monthly_budget_usd": _NUM}, ["endpoint", "model"]),
    "nodes": {"type": "array", "items": _obj({"name": _STR, "host": _STR, "port": _INT,
                                              "agents": {"type": "array", "items": _STR}}, ["name", "host", "agents"])},
    "monitoring": _obj({"alerts": {"type": "array", "items": _obj({
        "metric": {"enum": ["p95_latency_s", "success_rate", "error_rate"]}, "above": _NUM, "below": _NUM,
        "action": {"enum": ["log", "switch_model", "escalate_to_cloud", "restart_agent"]}}, ["metric", "action"])}},
        [])}, ["deployment", "models", "agents"])

MODES = ("single_device", "distributed_edge")
NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


class DeploymentError(ValueError):
    def __init__(self, source: str, problems: list[str]):
        self.problems = problems
        super().__init__(f"{source}: {len(problems)} problem(s)\n" + "\n".join(f"  - {p}" for p in problems))


def _path(raw: str) -> str:
    """``config["agents"][1]["model"]`` -> ``agents[1].model`` (how people read YAML paths)."""
    out = re.sub(r'\["([^"]*)"\]', r".\1", raw.removeprefix("config")).lstrip(".")
    return out or "(top level)"


def _suggest(word: str, options) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_deployment(config: Any, *, known_models: list[str] | None = None,
                     known_tools: list[str] | None = None) -> list[str]:
    """Every problem of a deployment, as ``path: what is wrong``; empty when it is valid.

    ``known_models`` (default: the course's registry) are the model names a
    ``models[].model`` may use; ``known_tools``, when given, the tool names an
    agent may list."""
    if known_models is None:
        from ..models import list_models

        known_models = [e.alias for e in list_models()]
    if not isinstance(config, dict):
        return [f"(top level): a deployment is a mapping with deployment, models and agents, got "
                f"{type(config).__name__}"]
    _, problems = check_value(SCHEMA, config, label="config")
    problems = [_tidy(p) for p in problems]
    if problems:  # references are only worth checking in a well-formed file
        return problems
    mode = config["deployment"]["mode"]
    if mode not in MODES:
        problems.append(f"deployment.mode: {mode!r} is not a mode{_suggest(mode, MODES)}; use {' or '.join(MODES)}")
    models = [m["name"] for m in config["models"]]
    agents = [a["name"] for a in config["agents"]]
    for section, names in (("models", models), ("agents", agents), ("nodes", [n["name"] for n in
                                                                            config.get("nodes", [])])):
        seen = set()
        for i, name in enumerate(names):
            if not NAME.match(name):
                problems.append(f"{section}[{i}].name: {name!r} must be a lower-case name (letters, digits, - and _)")
            if name in seen:
                problems.append(f"{section}[{i}].name: {name!r} is used twice")
            seen.add(name)
    for i, m in enumerate(config["models"]):
        if m["model"] not in known_models:
            problems.append(f"models[{i}].model: unknown model {m['model']!r}{_suggest(m['model'], known_models)}; "
                            f"known: {', '.join(known_models)}")
        if "n_ctx" in m and not 128 <= m["n_ctx"] <= 131072:
            problems.append(f"models[{i}].n_ctx: {m['n_ctx']} is outside 128 to 131072")
    for i, a in enumerate(config["agents"]):
        if a["model"] not in models:
            problems.append(f"agents[{i}].model: {a['model']!r} is not defined under models{_suggest(a['model'], models)}")
        for j, t in enumerate(a.get("tools", [])):
            if known_tools is not None and t not in known_tools:
                problems.append(f"agents[{i}].tools[{j}]: unknown tool {t!r}{_suggest(t, known_tools)}")
        if a.get("escalate_to_cloud") and "cloud" not in config:
            problems.append(f"agents[{i}].escalate_to_cloud: true, but there is no cloud section")
        if "max_steps" in a and a["max_steps"] < 1:
            problems.append(f"agents[{i}].max_steps: must be at least 1, got {a['max_steps']}")
    for key, value in config.get("resources", {}).items():
        if value <= 0:
            problems.append(f"resources.{key}: must be positive, got {value}")
    if "cloud" in config:
        cloud = config["cloud"]
        if not re.match(r"^https?://", cloud["endpoint"]):
            problems.append(f"cloud.endpoint: {cloud['endpoint']!r} is not an http(s) URL")
        if "timeout_s" in cloud and cloud["timeout_s"] <= 0:
            problems.append(f"cloud.timeout_s: must be positive, got {cloud['timeout_s']}")
    nodes = config.get("nodes", [])
    if mode == "single_device" and nodes:
        problems.append("nodes: a single_device deployment has no nodes (use mode: distributed_edge)")
    if mode == "distributed_edge":
        if not nodes:
            problems.append("nodes: a distributed_edge deployment needs at least one node")
        placed = set()
        for i, n in enumerate(nodes):
            if "port" in n and not 1 <= n["port"] <= 65535:
                problems.append(f"nodes[{i}].port: {n['port']} is not a TCP port")
            for j, a in enumerate(n["agents"]):
                if a not in agents:
                    problems.append(f"nodes[{i}].agents[{j}]: {a!r} is not defined under agents{_suggest(a, agents)}")
                placed.add(a)
        for name in dict.fromkeys(agents):
            if nodes and name not in placed:
                problems.append(f"agents: {name!r} runs on no node (add it to a node's agents)")
    for i, alert in enumerate(config.get("monitoring", {}).get("alerts", [])):
        if ("above" in alert) == ("below" in alert):
            problems.append(f"monitoring.alerts[{i}]: give exactly one of above or below")
        if alert["action"] == "escalate_to_cloud" and "cloud" not in config:
            problems.append(f"monitoring.alerts[{i}].action: escalate_to_cloud needs a cloud section")
    return problems


def _tidy(problem: str) -> str:
    match = re.match(r'^(config(?:\[[^\]]*\])*)\s+(.*)$', problem)
    if not match:
        return problem
    return f"{_path(match[1])}: {match[2]}"


def load_deployment(path: str | Path, **known) -> dict:
    """Read and check a deployment file; raises :class:`DeploymentError` with every problem."""
    import yaml

    path = Path(path)
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DeploymentError(str(path), ["the file does not exist"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise DeploymentError(str(path), [f"{where}not valid YAML ({getattr(exc, 'problem', exc)})"]) from None
    problems = check_deployment(config, **known)
    if problems:
        raise DeploymentError(str(path), problems)
    return config


def shipped_deployment(name: str) -> Path:
    """One of the course's example files: ``single_device`` or ``distributed_edge``."""
    from importlib import resources

    path = Path(str(resources.files("course.data").joinpath("deployments", f"{name}.yaml")))
    if not path.exists():
        raise FileNotFoundError(f"no shipped deployment {name!r}; try single_device or distributed_edge")
    return path
