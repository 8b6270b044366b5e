"""Exercise l09.4: check a deployment file.

A deployment file (YAML, read into a dict) names the models, the agents that
use them, and for a distributed edge the nodes that run the agents. Checking it
before starting anything turns a typo into one line of output instead of a
failure in the middle of a rollout. Report every problem, each with its path::

    agents[1].model: 'wroker' is not defined under models
"""


def check_deployment(config: dict) -> list:
    """Every problem of ``config`` as ``"path: message"``; an empty list when it is valid.

    - ``deployment``, ``models`` and ``agents`` must be present (path: the key);
    - ``deployment.mode`` is ``single_device`` or ``distributed_edge``;
    - names in ``models`` and in ``agents`` are unique (path ``models[i].name``);
    - each ``agents[i].model`` names a model defined under ``models``;
    - ``distributed_edge`` needs a non-empty ``nodes`` list and each
      ``nodes[i].agents[j]`` names a defined agent; ``single_device`` has no nodes
      (path ``nodes``).
    """
    ### BEGIN SOLUTION
    problems = []
    for key in ("deployment", "models", "agents"):
        if key not in config:
            problems.append(f"{key}: missing")
    if problems:
        return problems
    mode = config["deployment"].get("mode")
    if mode not in ("single_device", "distributed_edge"):
        problems.append(f"deployment.mode: must be single_device or distributed_edge, got {mode!r}")
    for section in ("models", "agents"):
        seen = set()
        for i, item in enumerate(config[section]):
            if item.get("name") in seen:
                problems.append(f"{section}[{i}].name: {item.get('name')!r} is used twice")
            seen.add(item.get("name"))
    models = {m.get("name") for m in config["models"]}
    for i, agent in enumerate(config["agents"]):
        if agent.get("model") not in models:
            problems.append(f"agents[{i}].model: {agent.get('model')!r} is not defined under models")
    agents = {a.get("name") for a in config["agents"]}
    nodes = config.get("nodes") or []
    if mode == "distributed_edge" and not nodes:
        problems.append("nodes: a distributed_edge deployment needs at least one node")
    if mode == "single_device" and nodes:
        problems.append("nodes: a single_device deployment has no nodes")
    for i, node in enumerate(nodes):
        for j, name in enumerate(node.get("agents", [])):
            if name not in agents:
                problems.append(f"nodes[{i}].agents[{j}]: {name!r} is not defined under agents")
    return problems
    ### END SOLUTION
