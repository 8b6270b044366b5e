"""The ``course`` command line."""
