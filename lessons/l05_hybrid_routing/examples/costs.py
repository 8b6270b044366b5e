"""What one request costs, in the cloud and on the device, at prices you choose.

Every default price is an assumption (see course/routing/cost.py), not a
quote: replace it with your provider's list and your device's power draw.
"""

from course.routing import CloudPrice, CostModel, LocalPrice

default = CostModel()
print("default cloud:", default.cloud)
print("default local:", default.local)

# one short task: a 20-token prompt, an 8-token answer; the local model takes 0.4 s for it
prompt_tokens, completion_tokens, local_seconds = 20, 8, 0.4


def compare(name: str, cost: CostModel) -> None:
    cloud = cost.cloud.cost(prompt_tokens, completion_tokens)
    local = cost.local.cost(local_seconds)
    print(f"{name:34} cloud ${cloud:.8f}  local ${local:.8f}  cloud/local {cloud / local:6.0f}x")


compare("defaults (assumed)", default)
compare("cheaper cloud model (assumed)", CostModel(cloud=CloudPrice(0.15, 0.60, "assumed small hosted model")))
compare("65 W desktop, same cloud (assumed)", CostModel(local=LocalPrice(65.0, 0.30, "assumed 65 W desktop")))

# the energy of local generation is watts x seconds, converted to kWh
joules = default.local.watts * local_seconds
print(f"{local_seconds} s at {default.local.watts:.0f} W = {joules:.0f} J = {joules / 3.6e6:.2e} kWh")
