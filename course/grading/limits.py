"""Launch a command with resource limits: ``python -m course.grading.limits MEMORY_MB -- CMD ...``.

Sets the address-space limit (so a runaway allocation becomes a MemoryError)
and disables core files (a segfault leaves nothing behind), then replaces
itself with the command. Used by the grading supervisor instead of a
``preexec_fn``, which is unsafe in a parent that runs threads.
"""

import os
import resource
import sys


def main(argv: list[str]) -> None:
    memory_mb = int(argv[0])
    cmd = argv[argv.index("--") + 1:]
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.execv(cmd[0], cmd)


if __name__ == "__main__":
    main(sys.argv[1:])
