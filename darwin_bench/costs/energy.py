"""Modeled energy: per-operation and per-byte energies (Horowitz, ISSCC 2014, 45 nm, 0.9 V).

Energy of one inference = effective MACs x energy of one multiply-add in the device's dtype
+ on-chip bytes x on-chip (SRAM/cache) energy per byte + DRAM bytes x DRAM energy per byte.
MACs and bytes are those of the roofline model (:mod:`darwin_bench.costs.roofline`), so
sparsity and on-chip residency count the same way in both. This is dynamic energy of
arithmetic and data movement only: static/idle power is not included, and the 45 nm figures
are not scaled to each device's process node, so compare devices by their arithmetic and
traffic, not as absolute battery drain.
"""

from __future__ import annotations

from darwin_bench.costs.devices import DeviceProfile
from darwin_bench.costs.roofline import effective_flops, traffic
from darwin_bench.costs.trace import Workload

#: Source of every figure below.
HOROWITZ = (
    "M. Horowitz, 'Computing's energy problem (and what we can do about it)', ISSCC 2014, "
    "energy table for 45 nm at 0.9 V"
)

#: Energy of one multiply plus one add, in pJ: fp32 3.7 + 0.9, fp16 1.1 + 0.4, int8 0.2 + 0.03.
MAC_PJ: dict[str, float] = {"fp32": 4.6, "fp16": 1.5, "int8": 0.23}

#: On-chip memory per byte: a 64-bit read of a 32 KB SRAM costs 20 pJ.
ON_CHIP_PJ_PER_BYTE = 20.0 / 8

#: DRAM per byte: a 64-bit DRAM access costs 1.3-2.6 nJ; the low end is used.
DRAM_PJ_PER_BYTE = 1300.0 / 8


def energy_mj(workload: Workload, device: DeviceProfile) -> float:
    """Modeled dynamic energy of one inference at batch size 1 on ``device``, in millijoules."""
    macs = sum(effective_flops(layer, device) for layer in workload.layers) / 2
    moved = traffic(workload, device)
    pj = macs * MAC_PJ[device.dtype]
    pj += sum(t.on_chip for t in moved) * ON_CHIP_PJ_PER_BYTE
    pj += sum(t.dram for t in moved) * DRAM_PJ_PER_BYTE
    return pj * 1e-9
