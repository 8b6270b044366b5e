"""``python -m course`` is the ``course`` command."""

from .cli.main import main

main()
