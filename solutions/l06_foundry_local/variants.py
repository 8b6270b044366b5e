"""Exercise l06.1: variant selection by hardware.

Foundry Local publishes one model under one alias in several variants, each
built for a device class (GPU, NPU, CPU) and an ONNX Runtime execution
provider. Running an alias means choosing the best variant this machine can
run: a variant can run when its execution provider is available here and that
provider serves the variant's device class. The CPU variant is the fallback.
"""

from collections.abc import Sequence

from course.foundry.variants import DEVICES, PROVIDER_DEVICES, Variant


def select_variant(variants: Sequence[Variant], providers: Sequence[str], *,
                   device: str | None = None) -> Variant:
    """The variant to run, given the execution providers available here.

    A variant can run when ``variant.provider`` is in ``providers`` and
    ``variant.device`` is in ``PROVIDER_DEVICES[variant.provider]``.
    Without ``device``, try the device classes in the order of ``DEVICES``
    (GPU, NPU, CPU); with ``device`` declared, try that class first and then
    CPU. Within a class, the first runnable variant in table order wins.
    Raises ``ValueError`` for a ``device`` not in ``DEVICES`` and
    ``LookupError`` naming the providers the variants need when none can run.
    """
    ### BEGIN SOLUTION
    if device is not None and device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
    available = set(providers)

    def runnable(v: Variant) -> bool:
        return v.provider in available and v.device in PROVIDER_DEVICES.get(v.provider, set())

    order = list(DEVICES) if device is None else [device, "CPU"]
    for wanted in order:
        for v in variants:
            if v.device == wanted and runnable(v):
                return v
    needed = ", ".join(sorted({v.provider for v in variants})) or "nothing"
    raise LookupError(f"no variant can run here: the variants need {needed}; "
                      f"this machine has {', '.join(providers) or 'no execution providers'}")
    ### END SOLUTION
