"""Launch a command with resource limits: ``python -m course.grading.limits MEMORY_MB [--file-mb N] -- CMD ...``.

Sets the address-space limit (so a runaway allocation becomes a MemoryError),
disables core files (a segfault leaves nothing behind) and, with ``--file-mb``,
caps the size of any file the command writes (a submission cannot fill the
disk through its log), then replaces itself with the command. Used by the grading supervisor instead of a
``preexec_fn``, which is unsafe in a parent that runs threads.
"""

import os
import resource
import sys


def main(argv: list[str]) -> None:
    memory_mb = int(argv[0])
    options = argv[1:argv.index("--")]
    cmd = argv[argv.index("--") + 1:]
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if "--file-mb" in options:
        size = int(options[options.index("--file-mb") + 1]) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    os.execv(cmd[0], cmd)


if __name__ == "__main__":
    main(sys.argv[1:])
