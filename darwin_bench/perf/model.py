"""``perf model``: a network's exact costs and its *modeled* costs on every device profile."""

from __future__ import annotations

from typing import Any

from darwin_bench.architecture import Architecture
from darwin_bench.costs import DEVICES, CostConfig, cost_kind, measure_costs
from darwin_bench.perf.networks import build, prune
from darwin_bench.tasks.base import Task


def model_report(task: Task, architecture: Architecture, prune_spec: str | None = None) -> dict:
    """Exact counts and modeled latency and energy per device of one untrained network (seed 0).

    Args:
        task: gives the input and builds the network.
        architecture: the network.
        prune_spec: zero weights first (see :func:`darwin_bench.perf.networks.prune`).

    Returns:
        ``{"prune", "architecture", "exact": {cost: value}, "modeled": True,
        "devices": {device: {"latency_ms", "energy_mj"}}}``.
    """
    model = build(task, architecture)
    if prune_spec:
        prune(model, prune_spec)
    costs = measure_costs(model, task.example_input(1), CostConfig(latency=False))
    devices: dict[str, dict[str, Any]] = {
        d: {"latency_ms": costs[f"latency_ms@{d}"], "energy_mj": costs[f"energy_mj@{d}"]}
        for d in DEVICES
    }
    return {
        "prune": prune_spec,
        "architecture": architecture.to_dict(),
        "exact": {k: v for k, v in costs.items() if cost_kind(k) == "exact"},
        "modeled": True,
        "devices": devices,
    }
