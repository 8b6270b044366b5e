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
    # YOUR CODE HERE: exercise l09.4, Check a deployment file
    raise NotImplementedError("exercise l09.4: read lessons/l09_agent_framework/index.md#check-a-deployment-file, then run `course check l09`")
