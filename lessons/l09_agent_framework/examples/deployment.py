"""Deployment files, checked before anything starts: every problem at once, each with its path.

Loads the two files the course ships, then breaks a copy of one in several
ways and prints what check_deployment finds, and what load_deployment says
about a file that is not valid YAML.
"""

import copy
import tempfile
from pathlib import Path

import yaml

from course.framework import (
    DeploymentError,
    check_deployment,
    load_deployment,
    shipped_deployment,
)

for name in ("single_device", "distributed_edge"):
    config = load_deployment(shipped_deployment(name))
    agents = ", ".join(f"{a['name']} on {a['model']}" for a in config["agents"])
    nodes = ", ".join(f"{n['name']}: {n['agents']}" for n in config.get("nodes", [])) or "none"
    print(f"{name}.yaml is valid: {config['deployment']['name']!r}, agents {agents}; nodes {nodes}")

good = yaml.safe_load(shipped_deployment("distributed_edge").read_text())
broken = copy.deepcopy(good)
broken["agents"][1]["model"] = "wroker"  # a typo in a reference
broken["models"].append({"name": "worker", "model": "smollm2-135m"})  # a name used twice
broken["nodes"][1]["agents"] = ["report"]  # a node runs an agent that does not exist
broken["resources"]["max_concurrent_agents"] = 0  # a limit that allows nothing
broken["models"][0]["n_ctx"] = "2048"  # a string where a number belongs
print("a broken copy of distributed_edge.yaml:")
for problem in check_deployment(broken):
    print("  -", problem)
print("(a file with a type error is reported for its structure first; fix that and the references follow)")
broken["models"][0]["n_ctx"] = 2048
for problem in check_deployment(broken):
    print("  -", problem)

single = yaml.safe_load(shipped_deployment("single_device").read_text())
single["deployment"]["mode"] = "single-device"
single["nodes"] = [{"name": "kiosk-2", "host": "10.0.0.5", "agents": ["orders"]}]
print("single_device.yaml with a misspelt mode and nodes:")
for problem in check_deployment(single):
    print("  -", problem)
single["deployment"]["mode"] = "single_device"
print("  after fixing the mode:", check_deployment(single))

with tempfile.TemporaryDirectory() as tmp:
    bad = Path(tmp) / "bad.yaml"
    bad.write_text("deployment: {name: kiosk, mode: single_device\nmodels: []\n")
    for path in (bad, Path(tmp) / "missing.yaml"):
        try:
            load_deployment(path)
        except DeploymentError as exc:
            print(f"load_deployment({path.name}): {exc.problems}")
