"""What a request costs, in tokens and in money.

Every price here is an **assumption**, labelled as such, never a quote: cloud
prices change and differ by provider and model, and the cost of a local token
depends on the device and the electricity. The course measures tokens and
seconds; money is tokens (or seconds) times a price you choose.

The local cost is the energy of the seconds the device spends generating:
``watts x seconds / 3.6e6 x price per kWh``. It ignores the device's purchase
price, which a fleet would amortise.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class CloudPrice:
    """Dollars per million tokens. The defaults are an assumption in the range large hosted
    models were listed at in 2025-2026 (input cheaper than output); replace them with yours."""

    input_per_m: float = 2.50
    output_per_m: float = 10.00
    label: str = "assumed large cloud model"

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return prompt_tokens * self.input_per_m / 1e6 + completion_tokens * self.output_per_m / 1e6


@dataclass(frozen=True)
class LocalPrice:
    """The energy of local generation. Defaults: a 15 W laptop-class device (assumption) at
    $0.30 per kWh (assumption)."""

    watts: float = 15.0
    dollars_per_kwh: float = 0.30
    label: str = "assumed 15 W device at $0.30/kWh"

    def cost(self, seconds: float) -> float:
        return self.watts * seconds / 3.6e6 * self.dollars_per_kwh


@dataclass(frozen=True)
class CostModel:
    cloud: CloudPrice = CloudPrice()
    local: LocalPrice = LocalPrice()

    def to_dict(self) -> dict:
        return asdict(self)
