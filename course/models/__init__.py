"""Model registry: aliases, files, sizes, quantization and chat formats of the shipped SLMs."""

from .errors import ModelError, ModelFileError, ModelNotInstalledError, UnknownModelError
from .registry import MODELS, ModelEntry, ModelStatus, cache_dir, get_model, list_models, model_path, model_status

DEFAULT_MODEL = "smollm2-135m"

__all__ = [
    "DEFAULT_MODEL",
    "MODELS",
    "ModelEntry",
    "ModelError",
    "ModelFileError",
    "ModelNotInstalledError",
    "ModelStatus",
    "UnknownModelError",
    "cache_dir",
    "get_model",
    "list_models",
    "model_path",
    "model_status",
]
