"""Cost models: exact counts, measured host latency, and modeled latency and energy on devices.

Cost names in ``info["costs"]``:

- exact counts (:data:`COSTS`): ``params``, ``synapses``, ``clusters``, ``flops``, ``macs``,
  ``activation_bytes``, ``model_bytes`` (and ``model_bytes_fp16`` / ``model_bytes_int8``);
- measured on this host: ``latency_ms`` (batch 1) and ``latency_ms_b64`` (batch 64) in ONNX
  Runtime, the engine networks are deployed with; ``latency_ms_eager`` / ``latency_ms_b64_eager``
  in PyTorch eager mode; each with its quartiles in ``<name>_q1`` / ``<name>_q3``;
- *modeled* on a device profile (:data:`DEVICE_COSTS` x :data:`DEVICES`):
  ``latency_ms@<device>`` and ``energy_mj@<device>``. A cost name with ``@`` is always modeled.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from darwin_bench.costs.counts import (
    count_clusters,
    count_params,
    count_synapses,
    model_bytes,
    synapse_tensors,
)
from darwin_bench.costs.devices import (
    DEVICES,
    DeviceProfile,
    get_device,
    load_profile,
    register_device,
)
from darwin_bench.costs.energy import energy_mj
from darwin_bench.costs.engines import ENGINES
from darwin_bench.costs.latency import (
    LatencyConfig,
    Timing,
    measure_engines,
    measure_latency_ms,
    time_interleaved,
)
from darwin_bench.costs.onnx_runtime import LatencyError, OnnxConfig, engine_info
from darwin_bench.costs.predictor import HostPredictor
from darwin_bench.costs.roofline import compacted, roofline_latency_ms
from darwin_bench.costs.trace import Workload, count_flops, trace_workload
from darwin_bench.hashing import content_hash

#: Cost names every env can use, with what they mean (exact or measured on this host).
COSTS: dict[str, str] = {
    "params": "number of parameters (weights and biases)",
    "synapses": "non-zero connection weights",
    "flops": "FLOPs of one forward pass at batch size 1 (torch.utils.flop_counter)",
    "latency_ms": "measured host-CPU latency of one forward pass at batch size 1 in ONNX Runtime "
    "(CPU execution provider, pinned threads, outputs checked against PyTorch), in ms",
    "clusters": "clusters alive: output neurons / conv filters with any non-zero incoming weight",
    "macs": "multiply-accumulates of one forward pass at batch size 1 (flops / 2)",
    "activation_bytes": "peak activation memory at batch 1: largest input+output of a layer",
    "model_bytes": "dense parameter bytes in fp32",
    "model_bytes_fp16": "dense parameter bytes in fp16",
    "model_bytes_int8": "dense parameter bytes in int8",
    "latency_ms_b64": "latency_ms at batch size 64, in ms",
    "latency_ms_eager": "measured host-CPU latency of one forward pass at batch size 1 in PyTorch "
    "eager mode (pinned threads), in ms",
    "latency_ms_b64_eager": "latency_ms_eager at batch size 64, in ms",
}

#: Measured cost name of each (engine, batch size).
LATENCY_NAMES: dict[tuple[str, int], str] = {
    ("onnxruntime", 1): "latency_ms",
    ("onnxruntime", 64): "latency_ms_b64",
    ("torch-eager", 1): "latency_ms_eager",
    ("torch-eager", 64): "latency_ms_b64_eager",
}

#: Costs measured on this host (timed, hence noisy) rather than counted.
MEASURED_COSTS = frozenset(LATENCY_NAMES.values())

#: Costs modeled per device profile, used as ``<cost>@<device>``.
DEVICE_COSTS: dict[str, str] = {
    "latency_ms": "modeled latency at batch 1 in ms (roofline + per-layer overhead; "
    "the calibrated predictor on host-cpu)",
    "energy_mj": "modeled dynamic energy at batch 1 in mJ (Horowitz ISSCC 2014 per-op/per-byte)",
}


def known_costs() -> list[str]:
    """Every valid cost name: the plain costs, then ``<cost>@<device>`` for every device."""
    return [*COSTS, *(f"{c}@{d}" for d in DEVICES for c in DEVICE_COSTS)]


def parse_cost(name: Any) -> tuple[str, str | None]:
    """Split and validate a cost name into ``(cost, device)`` (``device`` None if not modeled).

    Raises:
        ValueError: naming the known costs, or the known devices for an unknown device.
    """
    if not isinstance(name, str):
        raise ValueError(f"cost must be a string; got {name!r}")
    if "@" not in name:
        if name not in COSTS:
            raise ValueError(
                f"cost must be one of {', '.join(map(repr, COSTS))}, or "
                f"'<cost>@<device>' with cost in {list(DEVICE_COSTS)} and device in "
                f"{list(DEVICES)}; got {name!r}"
            )
        return name, None
    cost, device = name.split("@", 1)
    if cost not in DEVICE_COSTS:
        raise ValueError(
            f"cost {name!r}: only {list(DEVICE_COSTS)} are modeled per device "
            f"(device-independent costs: {list(COSTS)}); got {cost!r}"
        )
    try:
        get_device(device)
    except ValueError as exc:
        raise ValueError(f"cost {name!r}: {exc}") from None
    return cost, device


def cost_kind(name: str) -> str:
    """``"modeled"`` (a ``@device`` cost), ``"measured"`` (host timing) or ``"exact"``."""
    base = name.split("@", 1)[0]
    if "@" in name:
        return "modeled"
    if any(base == m or base.startswith(f"{m}_q") for m in MEASURED_COSTS):
        return "measured"
    return "exact"


def modeled_latency_ms(workload: Workload, device: DeviceProfile) -> float:
    """Modeled latency: the calibrated predictor when the profile has one, else the roofline.

    The predictor sees the workload the device would run (:func:`compacted`): whole clusters
    removed when the profile says structured sparsity helps.
    """
    if device.calibration:
        return HostPredictor.from_dict(device.calibration).predict_ms(compacted(workload, device))
    return roofline_latency_ms(workload, device)


def device_costs(workload: Workload, device: DeviceProfile) -> dict[str, float]:
    """Every modeled cost of a traced workload on ``device``, keyed ``<cost>@<device>``."""
    return {
        f"latency_ms@{device.name}": modeled_latency_ms(workload, device),
        f"energy_mj@{device.name}": energy_mj(workload, device),
    }


def _all_devices() -> tuple[DeviceProfile, ...]:
    return tuple(DEVICES.values())


@dataclass(frozen=True)
class CostConfig:
    """Which costs are measured, and how.

    Attributes:
        latency: measure ``latency_ms`` in ONNX Runtime (set False for deterministic, faster
            runs).
        latency_eager: measure ``latency_ms_eager`` in PyTorch eager mode (interleaved with the
            ONNX Runtime timing when both are measured).
        latency_batch64: also measure the enabled latencies at batch 64 (``*_b64*``).
        latency_config: how latency is timed (the protocol of :mod:`darwin_bench.costs.latency`).
        onnx: how networks are exported to ONNX Runtime and checked against PyTorch.
        devices: device profiles to model latency and energy on (default: all known).
    """

    latency: bool = True
    latency_eager: bool = False
    latency_batch64: bool = False
    latency_config: LatencyConfig = field(default_factory=LatencyConfig)
    onnx: OnnxConfig = field(default_factory=OnnxConfig)
    devices: tuple[DeviceProfile, ...] = field(default_factory=_all_devices)

    @property
    def engines(self) -> tuple[str, ...]:
        """The engines latency is measured in."""
        wanted = (("onnxruntime", self.latency), ("torch-eager", self.latency_eager))
        return tuple(engine for engine, on in wanted if on)

    def engine_info(self) -> dict[str, dict[str, Any]]:
        """Each measured latency cost's engine, versions and threads (for run logs)."""
        threads = self.latency_config.threads
        info = {
            "onnxruntime": engine_info(threads, self.onnx),
            "torch-eager": {
                "engine": "torch-eager",
                "version": torch.__version__,
                "threads": threads,
            },
        }
        batches = (1, 64) if self.latency_batch64 else (1,)
        return {LATENCY_NAMES[e, b]: info[e] for e in self.engines for b in batches}

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable settings (devices by name and a hash of their figures)."""
        return {
            "latency": self.latency,
            "latency_eager": self.latency_eager,
            "latency_config": self.latency_config.to_dict(),
            "latency_batch64": self.latency_batch64,
            "latency_engines": self.engine_info(),
            "devices": {d.name: content_hash(d.model_dump(mode="json"))[:16] for d in self.devices},
        }


def measure_costs(
    model: nn.Module, example: torch.Tensor, config: CostConfig | None = None
) -> dict[str, float]:
    """Measure every cost of ``model`` for one example (batch size 1).

    Returns:
        The exact counts of :data:`COSTS` (plus ``clusters_total``), the enabled measured
        latencies (:func:`host_latency`), and the modeled ``latency_ms@<device>`` /
        ``energy_mj@<device>`` of every configured device.

    Raises:
        LatencyError: when a latency is enabled and ONNX Runtime cannot run the network as
            PyTorch does (export, loading or the parity check failed).
    """
    config = config or CostConfig()
    one = example[:1]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # counting is tiny work: extra threads only add contention
    try:
        workload = trace_workload(model, one)
        alive, total = count_clusters(model)
        costs: dict[str, float] = {
            "params": count_params(model),
            "synapses": count_synapses(model),
            "flops": round(workload.flops),
            "clusters": alive,
            "clusters_total": total,
            "macs": workload.flops / 2,
            "activation_bytes": workload.peak_activation_bytes,
        }
    finally:
        torch.set_num_threads(threads)
    sizes = model_bytes(model)
    costs.update(
        model_bytes=sizes["fp32"],
        model_bytes_fp16=sizes["fp16"],
        model_bytes_int8=sizes["int8"],
    )
    if config.engines:
        costs.update(host_latency(model, one, config))
    for device in config.devices:
        costs.update(device_costs(workload, device))
    return costs


def host_latency(
    model: nn.Module, example: torch.Tensor, config: CostConfig | None = None
) -> dict[str, float]:
    """The measured latency costs of ``model`` (batch 1 from ``example``, and batch 64).

    Returns:
        ``<name>``, ``<name>_q1`` and ``<name>_q3`` for every enabled engine and batch size
        (names from :data:`LATENCY_NAMES`), and ``latency_threads``.

    Raises:
        LatencyError: when ONNX Runtime cannot run the network as PyTorch does.
    """
    config = config or CostConfig()
    one = example[:1]
    batches = [(1, one)]
    if config.latency_batch64:
        batches.append((64, one.expand(64, *one.shape[1:]).contiguous()))
    costs: dict[str, float] = {}
    for batch, inputs in batches:
        measured = measure_engines(
            model, inputs, config.engines, config.latency_config, config.onnx
        )
        for engine, (timing, _) in measured.items():
            name = LATENCY_NAMES[engine, batch]
            costs.update({name: timing.ms, f"{name}_q1": timing.q1, f"{name}_q3": timing.q3})
    costs["latency_threads"] = config.latency_config.threads
    return costs


def cost_kinds(names: Iterable[str]) -> dict[str, str]:
    """``{name: cost_kind(name)}`` for a set of cost names (the ``info["cost_kinds"]`` entry)."""
    return {n: cost_kind(n) for n in names}


__all__ = [
    "COSTS",
    "DEVICES",
    "DEVICE_COSTS",
    "ENGINES",
    "LATENCY_NAMES",
    "MEASURED_COSTS",
    "CostConfig",
    "DeviceProfile",
    "LatencyConfig",
    "LatencyError",
    "OnnxConfig",
    "Timing",
    "Workload",
    "cost_kind",
    "cost_kinds",
    "count_clusters",
    "count_flops",
    "count_params",
    "count_synapses",
    "device_costs",
    "get_device",
    "host_latency",
    "known_costs",
    "load_profile",
    "measure_costs",
    "measure_engines",
    "measure_latency_ms",
    "model_bytes",
    "modeled_latency_ms",
    "parse_cost",
    "register_device",
    "synapse_tensors",
    "time_interleaved",
    "trace_workload",
]
