"""Cost models: exact counts and measured host latency of a network."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from darwin_bench.costs.counts import count_flops, count_params, count_synapses, synapse_tensors
from darwin_bench.costs.latency import LatencyConfig, measure_latency_ms

#: Cost names every env can use, with what they mean.
COSTS: dict[str, str] = {
    "params": "number of parameters (weights and biases)",
    "synapses": "non-zero connection weights",
    "flops": "FLOPs of one forward pass at batch size 1 (torch.utils.flop_counter)",
    "latency_ms": "measured median host-CPU latency of one forward pass at batch size 1, in ms",
}


@dataclass(frozen=True)
class CostConfig:
    """Which costs are measured, and how.

    Attributes:
        latency: measure host latency (set False for deterministic, faster evaluations).
        latency_config: how latency is timed.
    """

    latency: bool = True
    latency_config: LatencyConfig = field(default_factory=LatencyConfig)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable settings."""
        return {"latency": self.latency, "latency_config": self.latency_config.to_dict()}


def measure_costs(
    model: nn.Module, example: torch.Tensor, config: CostConfig | None = None
) -> dict[str, float]:
    """Measure every cost of ``model`` for one example (batch size 1).

    Returns:
        A dict with ``params``, ``synapses``, ``flops`` and, when enabled, ``latency_ms``
        (median) with its inter-quartile range in ``latency_ms_q1`` / ``latency_ms_q3``.
    """
    config = config or CostConfig()
    example = example[:1]
    costs: dict[str, float] = {
        "params": count_params(model),
        "synapses": count_synapses(model),
        "flops": count_flops(model, example),
    }
    if config.latency:
        timing = measure_latency_ms(model, example, config.latency_config)
        costs["latency_ms"] = timing["median"]
        costs["latency_ms_q1"] = timing["q1"]
        costs["latency_ms_q3"] = timing["q3"]
    return costs


__all__ = [
    "COSTS",
    "CostConfig",
    "LatencyConfig",
    "count_flops",
    "count_params",
    "count_synapses",
    "measure_costs",
    "measure_latency_ms",
    "synapse_tensors",
]
