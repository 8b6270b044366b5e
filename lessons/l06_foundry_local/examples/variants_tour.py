"""One alias, several variants: which one runs on this machine, and on three others."""

from course.foundry.variants import VARIANTS, available_providers, select_variant

phi = VARIANTS["phi-4-mini"]
here = available_providers()
print("execution providers here:", ", ".join(here))
print("phi-4-mini here:", select_variant(phi, here).model_id)

machines = {
    "a laptop with an NVIDIA GPU": ["CUDAExecutionProvider", "CPUExecutionProvider"],
    "a Snapdragon laptop (NPU)": ["QNNExecutionProvider", "CPUExecutionProvider"],
    "a server with CPUs only": ["CPUExecutionProvider"],
}
for machine, providers in machines.items():
    print(f"{machine:28} -> {select_variant(phi, providers).model_id}")

# Declaring the device: the NPU saves battery even where a GPU is faster.
both = ["CUDAExecutionProvider", "QNNExecutionProvider", "CPUExecutionProvider"]
print("GPU and NPU, NPU declared   ->", select_variant(phi, both, device="NPU").model_id)

try:
    select_variant(phi[:1], ["CPUExecutionProvider"])  # a table with only the CUDA variant
except LookupError as exc:
    print("CUDA variant only, no GPU   ->", exc)
