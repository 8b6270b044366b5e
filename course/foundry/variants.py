"""Aliases resolved to variants by hardware: the idea behind ``foundry model run phi-4-mini``.

Foundry Local's catalog publishes one model in several *variants*, each built
for one device class and execution provider (its id says which:
``...-cuda-gpu``, ``...-qnn-npu``, ``...-generic-cpu``). An alias is resolved
to the best variant that can run on this machine. :func:`select_variant` does
that for a variant table and a list of available execution providers, with the
CPU variant as the fallback; :func:`available_providers` reads what this
machine has (ONNX Runtime's providers, plus any Foundry Local registered).

The SDK does the same inside ``Catalog.get_model(alias)`` (an ``IModel`` with
``variants`` and ``select_variant``); with no network the public catalog is
empty, so the course's own table below is an illustration of Foundry's naming,
except for the variant ``course foundry prepare`` builds, which is real.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

DEVICES = ("GPU", "NPU", "CPU")


@dataclass(frozen=True)
class Variant:
    model_id: str
    device: str  # GPU | NPU | CPU
    provider: str  # the ONNX Runtime execution provider it needs
    real_here: bool = False  # False: an id in Foundry's naming that cannot be downloaded here

    def __post_init__(self) -> None:
        if self.device not in DEVICES:
            raise ValueError(f"device must be one of {DEVICES}, got {self.device!r}")


# Which execution providers serve which device class (a provider may serve several).
PROVIDER_DEVICES = {
    "CUDAExecutionProvider": {"GPU"},
    "NvTensorRTRTXExecutionProvider": {"GPU"},
    "DmlExecutionProvider": {"GPU"},
    "WebGpuExecutionProvider": {"GPU"},
    "MIGraphXExecutionProvider": {"GPU"},
    "QNNExecutionProvider": {"NPU"},
    "VitisAIExecutionProvider": {"NPU"},
    "OpenVINOExecutionProvider": {"CPU", "GPU", "NPU"},
    "CPUExecutionProvider": {"CPU"},
}

VARIANTS: dict[str, list[Variant]] = {
    # the source's example alias, with ids in Foundry's naming pattern (device and provider as the
    # suffix; versions left out): an illustration, nothing here downloads them
    "phi-4-mini": [
        Variant("phi-4-mini-instruct-cuda-gpu", "GPU", "CUDAExecutionProvider"),
        Variant("phi-4-mini-instruct-qnn-npu", "NPU", "QNNExecutionProvider"),
        Variant("phi-4-mini-instruct-generic-cpu", "CPU", "CPUExecutionProvider"),
    ],
    "smollm2-135m": [
        Variant("smollm2-135m-generic-cpu:1", "CPU", "CPUExecutionProvider", real_here=True),
    ],
}


def available_providers() -> list[str]:
    """Execution providers this machine can use: ONNX Runtime's, plus those Foundry Local has registered."""
    found: list[str] = []
    try:
        import onnxruntime

        found += onnxruntime.get_available_providers()
    except ImportError:
        pass
    try:
        from .runtime import manager

        found += [ep.name for ep in manager().discover_eps() if getattr(ep, "is_registered", False)]
    except Exception:  # noqa: BLE001 - no SDK, or no EP discovery offline: ONNX Runtime's list stands
        pass
    if "CPUExecutionProvider" not in found:
        found.append("CPUExecutionProvider")  # every build of ONNX Runtime has it
    return list(dict.fromkeys(found))


def runnable(variant: Variant, providers: Iterable[str]) -> bool:
    return variant.provider in set(providers) and variant.device in PROVIDER_DEVICES.get(variant.provider, set())


def select_variant(variants: Sequence[Variant], providers: Iterable[str], *,
                   prefer: Sequence[str] = DEVICES, device: str | None = None) -> Variant:
    """The variant to run: the first device class in ``prefer`` (or exactly ``device``, when declared) that
    has a runnable variant, in table order; the CPU variant when nothing better runs.

    Raises ``LookupError`` naming what is missing when no variant can run."""
    providers = list(providers)
    order = [device] if device else list(prefer)
    if device and device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
    for wanted in order + (["CPU"] if "CPU" not in order else []):
        for v in variants:
            if v.device == wanted and runnable(v, providers):
                return v
    needed = sorted({v.provider for v in variants})
    raise LookupError(f"no variant can run here: they need {', '.join(needed) or 'nothing listed'}; "
                      f"this machine has {', '.join(providers) or 'no execution providers'}")
