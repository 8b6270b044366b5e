"""Quantization, from single blocks (:mod:`.blocks`) to whole model files (:mod:`.ladder`, :mod:`.claims`)."""

from .blocks import (BLOCK_TYPES, QuantizationError, bits_per_weight, dequantize, error_metrics, quantize,
                     round_trip)

__all__ = ["BLOCK_TYPES", "QuantizationError", "bits_per_weight", "dequantize", "error_metrics", "quantize",
           "round_trip"]
