"""Modeled latency: a per-layer roofline with fixed overheads, on a device profile.

For each layer call the model takes the longer of its compute time (effective FLOPs over the
device's peak) and its off-chip memory time (DRAM bytes over the bandwidth), and adds the
device's per-layer overhead; one per-inference overhead is added on top.

- *Effective FLOPs* account for sparsity as the device allows (:func:`effective_flops`):
  unstructured sparsity lowers FLOPs only on devices whose kernels skip scattered zeros;
  dropping whole clusters (all-zero rows / input columns) lowers them wherever
  ``structured_sparsity`` is true.
- *DRAM bytes*: when the weights and the largest layer working set fit in the device's on-chip
  memory they stay there between inferences and cost no bandwidth; otherwise every weight is
  read once per inference, and activations larger than on-chip memory go through DRAM too.
- Element-wise layers (activations) and no-op layers (flatten, dropout, identity) are fused
  into their producer by deployment runtimes: they add no overhead of their own.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from darwin_bench.costs.devices import DeviceProfile
from darwin_bench.costs.trace import LayerWork, Workload

#: Layer kinds that deployment runtimes fuse into the previous layer (no per-layer overhead).
FUSED_KINDS = frozenset({"activation", "reshape"})


def sparsity_factor(layer: LayerWork, device: DeviceProfile) -> float:
    """Share of a layer's dense work the device actually performs given its weight zeros."""
    factor = 1.0
    if device.structured_sparsity:
        factor = min(factor, layer.structured)
    if device.unstructured_sparsity and layer.weight_elements:
        factor = min(factor, layer.density / device.sparse_efficiency)
    return factor


def effective_flops(layer: LayerWork, device: DeviceProfile) -> float:
    """FLOPs a device performs for ``layer`` (dense FLOPs times :func:`sparsity_factor`)."""
    return layer.flops * sparsity_factor(layer, device) if layer.weight_elements else layer.flops


def compacted(workload: Workload, device: DeviceProfile) -> Workload:
    """The workload as the device runs it: FLOPs and weights cut by :func:`sparsity_factor`."""
    layers = [
        replace(
            layer,
            flops=effective_flops(layer, device),
            param_elements=round(weight_bytes(layer, device) / device.dtype_bytes),
            weight_elements=round(layer.weight_elements * sparsity_factor(layer, device)),
            density=1.0,
            structured=1.0,
        )
        for layer in workload.layers
    ]
    return replace(workload, layers=layers, flops=sum(la.flops for la in layers))


@dataclass(frozen=True)
class Traffic:
    """Bytes moved per inference, split by where they come from."""

    dram: float
    on_chip: float


def weight_bytes(layer: LayerWork, device: DeviceProfile) -> float:
    """Bytes of a layer's parameters in the device dtype (zeros skipped where the device can)."""
    others = max(layer.param_elements - layer.weight_elements, 0)
    weights = layer.weight_elements * sparsity_factor(layer, device)
    return (weights + others) * device.dtype_bytes


def traffic(workload: Workload, device: DeviceProfile) -> list[Traffic]:
    """Per-layer memory traffic (aligned with ``workload.layers``)."""
    scale = device.dtype_bytes / 4  # traced activations are fp32
    weights = [weight_bytes(la, device) for la in workload.layers]
    resident = sum(weights) + workload.peak_activation_bytes * scale <= device.on_chip_bytes
    out: list[Traffic] = []
    for layer, w in zip(workload.layers, weights):
        acts = layer.activation_bytes * scale
        acts_on_chip = layer.peak_bytes * scale <= device.on_chip_bytes
        dram = (0.0 if resident else w) + (0.0 if acts_on_chip else acts)
        on_chip = (w if resident else 0.0) + (acts if acts_on_chip else 0.0)
        out.append(Traffic(dram=dram, on_chip=on_chip))
    return out


def layer_latency_us(
    layer: LayerWork, moved: Traffic, device: DeviceProfile
) -> tuple[float, float, float]:
    """``(compute_us, memory_us, overhead_us)`` of one layer on ``device``."""
    compute = effective_flops(layer, device) / (device.peak_gflops * 1e3)
    memory = moved.dram / (device.memory_bandwidth_gbs * 1e3)
    overhead = 0.0 if layer.kind in FUSED_KINDS else device.layer_overhead_us * layer.calls
    return compute, memory, overhead


def roofline_latency_ms(workload: Workload, device: DeviceProfile) -> float:
    """Modeled latency of one inference at batch size 1 on ``device``, in milliseconds."""
    total_us = device.inference_overhead_us
    for layer, moved in zip(workload.layers, traffic(workload, device)):
        compute, memory, overhead = layer_latency_us(layer, moved, device)
        total_us += max(compute, memory) + overhead
    return total_us / 1e3
