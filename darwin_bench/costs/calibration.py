"""Calibrating the host profile and reporting the host predictor's accuracy.

Architectures are sampled at random from (task, space) pairs, built untrained (latency does not
depend on the weights' values), traced and timed on this machine. A calibration set fits the
predictor (:mod:`darwin_bench.costs.predictor`); a disjoint test set, timed twice, measures its
accuracy and the noise of the measurements themselves.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from darwin_bench.costs.devices import DeviceProfile, parse_profile
from darwin_bench.costs.latency import LatencyConfig, measure_latency_ms
from darwin_bench.costs.microbench import host_figures
from darwin_bench.costs.predictor import HostPredictor, accuracy_report, fit_predictor
from darwin_bench.costs.roofline import roofline_latency_ms
from darwin_bench.costs.trace import Workload, trace_workload
from darwin_bench.seeding import derive_seed, torch_determinism
from darwin_bench.spaces.base import SearchSpace
from darwin_bench.tasks.base import Task

#: Timing of every predictor measurement (batch size 1, one thread); the repeats shrink for
#: slow networks (see :func:`adaptive_timing`).
PREDICTOR_TIMING = LatencyConfig(warmup=10, repeats=61, number=1, threads=1)

#: Wall time one measurement aims for, and the fewest repeats it takes.
TIME_PER_MEASUREMENT_S = 0.15
MIN_REPEATS = 15


def adaptive_timing(model: torch.nn.Module, example: torch.Tensor) -> LatencyConfig:
    """:data:`PREDICTOR_TIMING`, with fewer repeats for networks slower than ~2.5 ms."""
    rough = measure_latency_ms(model, example, LatencyConfig(warmup=2, repeats=3, number=1))
    fit = int(TIME_PER_MEASUREMENT_S * 1e3 / max(rough["median"], 1e-3))
    repeats = min(PREDICTOR_TIMING.repeats, max(MIN_REPEATS, fit))
    warmup = min(PREDICTOR_TIMING.warmup, max(3, repeats // 10))
    return LatencyConfig(warmup=warmup, repeats=repeats, number=1, threads=1)


@dataclass
class Sample:
    """One timed architecture."""

    source: str
    arch_hash: str
    workload: Workload
    latency_ms: float
    iqr_ms: float
    repeat_ms: float | None = None


def sample_networks(
    pairs: Sequence[tuple[str, Task, SearchSpace]],
    n: int,
    seed: int,
    exclude: Collection[str] = (),
) -> list[tuple[str, str, torch.nn.Module, torch.Tensor]]:
    """``n`` distinct random networks, drawn round-robin from the (name, task, space) pairs,
    none of whose architecture hashes is in ``exclude``."""
    rng = np.random.default_rng(seed)
    out: list[tuple[str, str, torch.nn.Module, torch.Tensor]] = []
    seen: set[str] = set(exclude)
    attempts = 0
    while len(out) < n and attempts < 50 * n:
        name, task, space = pairs[attempts % len(pairs)]
        attempts += 1
        architecture = space.decode(space.sample(rng))
        if architecture.hash in seen:
            continue
        seen.add(architecture.hash)
        with torch_determinism(derive_seed(seed, architecture.hash)):
            model = task.build(architecture)
        out.append((name, architecture.hash, model, task.example_input(1)))
    return out


def time_networks(
    networks: Sequence[tuple[str, str, torch.nn.Module, torch.Tensor]],
    timing: LatencyConfig | None = None,
    repeat: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> list[Sample]:
    """Trace and time each network; with ``repeat``, time them all again in a second pass.

    Args:
        networks: from :func:`sample_networks`.
        timing: how to time them (default: :func:`adaptive_timing` per network).
        repeat: time every network a second time (``Sample.repeat_ms``), after all the others.
        progress: called with (done, total).
    """
    samples: list[Sample] = []
    timings: list[LatencyConfig] = []
    for i, (source, arch_hash, model, example) in enumerate(networks):
        timings.append(timing or adaptive_timing(model, example))
        timed = measure_latency_ms(model, example, timings[-1])
        samples.append(
            Sample(
                source,
                arch_hash,
                trace_workload(model, example),
                timed["median"],
                timed["q3"] - timed["q1"],
            )
        )
        if progress:
            progress(i + 1, len(networks) * (2 if repeat else 1))
    if repeat:
        for i, (sample, (_, _, model, example)) in enumerate(zip(samples, networks)):
            sample.repeat_ms = measure_latency_ms(model, example, timings[i])["median"]
            if progress:
                progress(len(networks) + i + 1, 2 * len(networks))
    return samples


def host_profile(figures: dict[str, float], predictor: HostPredictor | None) -> DeviceProfile:
    """The ``host-cpu`` profile from measured microbenchmark figures and a fitted predictor."""
    machine = f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads"
    stamp = time.strftime("%Y-%m-%d")
    measured = f"measured on this host by `darwin-bench perf calibrate` ({stamp})"
    return parse_profile(
        {
            "name": "host-cpu",
            "description": f"this machine's CPU ({machine}), PyTorch eager fp32, 1 thread",
            "kind": "cpu",
            "dtype": "fp32",
            "peak_gflops": round(figures["peak_gflops"], 2),
            "memory_bandwidth_gbs": round(figures["memory_bandwidth_gbs"], 2),
            "on_chip_bytes": int(figures.get("on_chip_bytes", 2**21)),
            "layer_overhead_us": round(figures["layer_overhead_us"], 3),
            "inference_overhead_us": round(
                predictor.coefficients[0] if predictor is not None else 0.0, 3
            ),
            "unstructured_sparsity": False,
            "structured_sparsity": True,
            "calibration": predictor.to_dict() if predictor is not None else None,
            "sources": {
                "peak_gflops": f"{measured}: best of 25 fp32 512x512 matmuls",
                "memory_bandwidth_gbs": f"{measured}: best of 9 copies of a 256 MB buffer",
                "on_chip_bytes": "L2 cache size from /sys/devices/system/cpu/cpu0/cache",
                "layer_overhead_us": f"{measured}: median time per call of a 1x1 nn.Linear",
                "inference_overhead_us": f"{measured}: intercept of the fitted predictor",
                "unstructured_sparsity": "PyTorch dense CPU kernels multiply zeros",
                "structured_sparsity": "a network with whole clusters removed is smaller and dense",
            },
        },
        "host-cpu",
    )


def l2_cache_bytes() -> int:
    """This CPU's L2 cache size from sysfs (2 MiB when it cannot be read)."""
    import glob

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


def calibrate(
    pairs: Sequence[tuple[str, Task, SearchSpace]],
    n_calibration: int = 100,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[DeviceProfile, list[Sample]]:
    """Measure the host figures and fit the predictor on ``n_calibration`` random networks."""
    figures: dict[str, float] = {**host_figures(), "on_chip_bytes": l2_cache_bytes()}
    samples = time_networks(sample_networks(pairs, n_calibration, seed), progress=progress)
    predictor = fit_predictor([s.workload for s in samples], [s.latency_ms for s in samples])
    return host_profile(figures, predictor), samples


def predictor_report(
    pairs: Sequence[tuple[str, Task, SearchSpace]],
    n: int = 200,
    n_calibration: int = 100,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Calibrate on this machine, then report accuracy on ``n`` fresh random networks."""
    start = time.perf_counter()
    profile, cal = calibrate(pairs, n_calibration, seed, progress)
    predictor = HostPredictor.from_dict(profile.calibration or {})
    calibration_hashes = {sample.arch_hash for sample in cal}
    test = time_networks(
        sample_networks(pairs, n, seed + 1, exclude=calibration_hashes),
        repeat=True,
        progress=progress,
    )
    measured = [s.latency_ms for s in test]
    report: dict[str, Any] = accuracy_report(
        [predictor.predict_ms(s.workload) for s in test], measured, [s.workload.flops for s in test]
    )
    roofline = accuracy_report(
        [roofline_latency_ms(s.workload, profile) for s in test],
        measured,
        [s.workload.flops for s in test],
    )
    repeat = np.array([s.repeat_ms or np.nan for s in test])
    rel_repeat = np.abs(repeat - np.array(measured)) / np.array(measured)
    report.update(
        {
            "n_calibration": len(cal),
            "calibration_fit": accuracy_report(
                [predictor.predict_ms(s.workload) for s in cal],
                [s.latency_ms for s in cal],
                [s.workload.flops for s in cal],
            )["within_10pct"],
            "roofline_within_10pct": roofline["within_10pct"],
            "roofline_spearman": roofline["spearman"],
            "repeat_within_10pct": float(np.mean(rel_repeat <= 0.10)),
            "median_rel_iqr": float(np.median([s.iqr_ms / s.latency_ms for s in test])),
            "latency_ms_range": [float(min(measured)), float(max(measured))],
            "by_source": {
                source: accuracy_report(
                    [predictor.predict_ms(s.workload) for s in test if s.source == source],
                    [s.latency_ms for s in test if s.source == source],
                    [s.workload.flops for s in test if s.source == source],
                )
                for source in sorted({s.source for s in test})
            },
            "sources": sorted({s.source for s in test}),
            "host": profile.model_dump(exclude={"sources", "calibration"}),
            "timing": {
                **PREDICTOR_TIMING.to_dict(),
                "adaptive": f"repeats shrink to >= {MIN_REPEATS} for networks slower than "
                f"{TIME_PER_MEASUREMENT_S * 1e3 / PREDICTOR_TIMING.repeats:.1f} ms",
            },
            "seed": seed,
            "seconds": time.perf_counter() - start,
        }
    )
    return report
