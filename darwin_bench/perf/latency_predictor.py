"""``perf calibrate`` and ``perf latency-predictor``: fit the host predictor, report its accuracy.

Architectures are sampled at random from (task, space) pairs, built untrained (latency does not
depend on the weights' values), traced and timed on this machine. A calibration set fits the
predictor (:mod:`darwin_bench.costs.predictor`); a disjoint test set, timed twice, measures its
accuracy and the noise of the measurements themselves.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from darwin_bench.costs.calibration import host_profile, l2_cache_bytes
from darwin_bench.costs.devices import DeviceProfile
from darwin_bench.costs.latency import LatencyConfig, measure_latency_ms
from darwin_bench.costs.microbench import host_figures
from darwin_bench.costs.predictor import HostPredictor, accuracy_report, fit_predictor
from darwin_bench.costs.roofline import roofline_latency_ms
from darwin_bench.costs.trace import Workload, trace_workload
from darwin_bench.perf.networks import Network, sample_networks
from darwin_bench.spaces.base import SearchSpace
from darwin_bench.tasks.base import Task

Problems = Sequence[tuple[str, Task, SearchSpace]]
Progress = Callable[[int, int], None]

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


def time_networks(
    networks: Sequence[Network],
    timing: LatencyConfig | None = None,
    repeat: bool = False,
    progress: Progress | None = None,
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
    for i, net in enumerate(networks):
        source, arch_hash, model, example = net.source, net.arch_hash, net.model, net.example
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
        for i, (sample, net) in enumerate(zip(samples, networks)):
            sample.repeat_ms = measure_latency_ms(net.model, net.example, timings[i])["median"]
            if progress:
                progress(len(networks) + i + 1, 2 * len(networks))
    return samples


def calibrate(
    problems: Problems,
    n_calibration: int = 100,
    seed: int = 0,
    progress: Progress | None = None,
) -> tuple[DeviceProfile, list[Sample]]:
    """Measure the host figures and fit the predictor on ``n_calibration`` random networks."""
    figures: dict[str, float] = {**host_figures(), "on_chip_bytes": l2_cache_bytes()}
    samples = time_networks(sample_networks(problems, n_calibration, seed), progress=progress)
    predictor = fit_predictor([s.workload for s in samples], [s.latency_ms for s in samples])
    return host_profile(figures, predictor), samples


def predictor_report(
    problems: Problems,
    n: int = 200,
    n_calibration: int = 100,
    seed: int = 0,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Calibrate on this machine, then report accuracy on ``n`` fresh random networks."""
    start = time.perf_counter()
    profile, cal = calibrate(problems, n_calibration, seed, progress)
    predictor = HostPredictor.from_dict(profile.calibration or {})
    calibration_hashes = {sample.arch_hash for sample in cal}
    test = time_networks(
        sample_networks(problems, n, seed + 1, exclude=calibration_hashes),
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


def calibration_report(
    problems: Problems,
    out: str | Path,
    n_calibration: int = 100,
    seed: int = 0,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Calibrate the host profile, write it to ``out``, and report the in-sample fit.

    Returns:
        ``{"profile": path, "in_sample": accuracy report, **the profile's figures}``.
    """
    profile, samples = calibrate(problems, n_calibration, seed, progress)
    predictor = HostPredictor.from_dict(profile.calibration or {})
    fit = accuracy_report(
        [predictor.predict_ms(s.workload) for s in samples],
        [s.latency_ms for s in samples],
        [s.workload.flops for s in samples],
    )
    path = Path(out)
    path.write_text(json.dumps(profile.model_dump(mode="json"), indent=2) + "\n")
    return {"profile": str(path), "in_sample": fit, **profile.model_dump(exclude={"sources"})}
