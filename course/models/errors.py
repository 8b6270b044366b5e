"""Errors of the model registry: each one says what is wrong and how to fix it."""

from __future__ import annotations


class ModelError(Exception):
    """Base class for every model registry problem."""


class UnknownModelError(ModelError, KeyError):
    """An alias the registry does not know."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class ModelNotInstalledError(ModelError):
    """The package that carries a model's weights is not installed."""


class ModelFileError(ModelError):
    """A model file is present but truncated, corrupt or not a GGUF file."""
