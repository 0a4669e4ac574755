"""The ``host-cpu`` profile: this machine's measured figures and its fitted host predictor.

The measurements themselves (sampling networks from tasks and spaces, timing them, fitting)
are orchestrated above the cost layer, by :mod:`darwin_bench.perf.latency_predictor`.
"""

from __future__ import annotations

import glob
import platform
import time

import onnxruntime

from darwin_bench.costs.devices import DeviceProfile, parse_profile
from darwin_bench.costs.predictor import HostPredictor


def host_profile(figures: dict[str, float], predictor: HostPredictor | None) -> DeviceProfile:
    """The ``host-cpu`` profile from measured microbenchmark figures and a fitted predictor.

    Args:
        figures: from :func:`darwin_bench.costs.microbench.host_figures`, plus
            ``on_chip_bytes``.
        predictor: fitted on ONNX Runtime latencies (``latency_ms``).
    """
    machine = f"{platform.processor() or platform.machine()}"
    stamp = time.strftime("%Y-%m-%d")
    measured = f"measured on this host by `darwin-bench perf calibrate` ({stamp})"
    engine = f"ONNX Runtime {onnxruntime.__version__} CPU execution provider"
    return parse_profile(
        {
            "name": "host-cpu",
            "description": f"this machine's CPU ({machine}), {engine}, fp32, 1 thread",
            "kind": "cpu",
            "dtype": "fp32",
            "peak_gflops": round(figures["peak_gflops"], 2),
            "memory_bandwidth_gbs": round(figures["memory_bandwidth_gbs"], 2),
            "on_chip_bytes": int(figures.get("on_chip_bytes", 2**21)),
            "layer_overhead_us": round(figures["layer_overhead_us"], 3),
            "inference_overhead_us": round(figures["inference_overhead_us"], 3),
            "unstructured_sparsity": False,
            "structured_sparsity": True,
            "calibration": predictor.to_dict() if predictor is not None else None,
            "sources": {
                "peak_gflops": f"{measured}: fastest of 25 fp32 512x512 MatMuls in {engine}",
                "memory_bandwidth_gbs": f"{measured}: best of 9 copies of a 256 MB buffer",
                "on_chip_bytes": "L2 cache size from /sys/devices/system/cpu/cpu0/cache",
                "layer_overhead_us": f"{measured}: slope between chains of 1 and 32 1x1 linear "
                f"layers in {engine}",
                "inference_overhead_us": f"{measured}: the 1-layer chain's time minus one layer",
                "unstructured_sparsity": "ONNX Runtime's dense CPU kernels multiply zeros",
                "structured_sparsity": "a network with whole clusters removed is smaller and dense",
            },
        },
        "host-cpu",
    )


def l2_cache_bytes() -> int:
    """This CPU's L2 cache size from sysfs (2 MiB when it cannot be read)."""
    for path in sorted(glob.glob("/sys/devices/system/cpu/cpu0/cache/index*/")):
        try:
            with open(path + "level") as f:
                level = int(f.read())
            with open(path + "size") as f:
                size = f.read().strip()
        except OSError:
            continue
        if level == 2 and size.endswith("K"):
            return int(size[:-1]) * 1024
    return 2**21
