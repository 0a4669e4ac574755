"""``perf calibrate`` and ``perf latency-predictor``: the host predictor, on deployed latency.

Networks are sampled at random from (task, space) pairs and built untrained (latency does not
depend on the weights' values). A *sweep* exports every network to ONNX Runtime (checked
against PyTorch), traces it, and times all of them in both engines with the protocol of
:mod:`darwin_bench.costs.latency`, every network and engine interleaved in the same rounds, so
they all see the same machine. A network that cannot be exported or does not match PyTorch is
recorded with its reason and left out.

``calibrate`` sweeps a calibration set once (300 networks by default: on tuning seeds 100-101,
300 rather than 100 raised the share of held-out networks within ±10% from 78% to 82%) and
fits one predictor per engine; the ONNX Runtime one is the ``host-cpu`` profile's calibration.
``predictor_report`` then sweeps a disjoint test set twice, each time with fresh exports and
sessions: the predictors' error against the first sweep, and the agreement of the two sweeps
(the measurement's own repeatability).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from darwin_bench.costs import LatencyConfig, LatencyError, OnnxConfig, time_interleaved
from darwin_bench.costs.calibration import host_profile, l2_cache_bytes
from darwin_bench.costs.devices import DeviceProfile
from darwin_bench.costs.engines import Runner, make_runner
from darwin_bench.costs.microbench import host_figures
from darwin_bench.costs.predictor import HostPredictor, accuracy_report, fit_predictor, spearman
from darwin_bench.costs.roofline import roofline_latency_ms
from darwin_bench.costs.trace import Workload, trace_workload
from darwin_bench.perf.conditions import conditions
from darwin_bench.perf.latency import QUANTILES, agreement
from darwin_bench.perf.networks import Network, sample_networks
from darwin_bench.spaces.base import SearchSpace
from darwin_bench.tasks.base import Task

Problems = Sequence[tuple[str, Task, SearchSpace]]
Progress = Callable[[int, int], None]

#: The engines every sweep times, the deployed one first.
ENGINES = ("onnxruntime", "torch-eager")

#: The protocol of a sweep: per-evaluation settings, without a time limit (all networks of a
#: sweep share its rounds).
SWEEP_TIMING = LatencyConfig(max_seconds=3600.0)


@dataclass
class Measured:
    """One network of a sweep.

    Attributes:
        source: ``<task>/<space>``.
        arch_hash: its architecture's hash.
        workload: its traced forward pass (the predictor's input).
        ms: the protocol's latency per engine.
        rel_iqr: inter-quartile range over the reported latency, per engine.
        setup_ms: ``export`` and ``session`` (ONNX Runtime load) times.
        quantiles: other quantiles of the same samples, per engine (``{engine: {q: ms}}``).
    """

    source: str
    arch_hash: str
    workload: Workload
    ms: dict[str, float] = field(default_factory=dict)
    rel_iqr: dict[str, float] = field(default_factory=dict)
    setup_ms: dict[str, float] = field(default_factory=dict)
    quantiles: dict[str, dict[float, float]] = field(default_factory=dict)


def _runners(
    networks: Sequence[Network],
    stack: ExitStack,
    config: LatencyConfig,
    onnx: OnnxConfig | None,
    engines: Sequence[str],
) -> tuple[list[tuple[Network, list[Runner]]], dict[str, str]]:
    ready: list[tuple[Network, list[Runner]]] = []
    failed: dict[str, str] = {}
    for net in networks:
        try:
            runners = [
                stack.enter_context(make_runner(e, net.model, net.example, config.threads, onnx))
                for e in engines
            ]
        except LatencyError as exc:
            failed[net.arch_hash] = f"{net.source}: {exc}"
            continue
        ready.append((net, runners))
    return ready, failed


def sweep(
    networks: Sequence[Network],
    config: LatencyConfig = SWEEP_TIMING,
    onnx: OnnxConfig | None = None,
    progress: Progress | None = None,
    engines: Sequence[str] = ENGINES,
) -> tuple[list[Measured], dict[str, str]]:
    """Export, trace and time every network in ``engines`` (both by default), interleaved.

    Returns:
        ``(measured, failed)``: the measured networks in input order, and
        ``{arch_hash: reason}`` for those ONNX Runtime could not run as PyTorch does.
    """
    total = len(networks) + config.repeats
    with ExitStack() as stack:
        ready, failed = _runners(networks, stack, config, onnx, engines)
        if progress:
            progress(len(networks), total)
        runners = [r for _, pair in ready for r in pair]

        def rounds(done: int, planned: int) -> None:
            if progress:
                progress(len(networks) + done, total)

        timings = time_interleaved(runners, config, progress=rounds)
        out: list[Measured] = []
        for i, (net, pair) in enumerate(ready):
            measured = Measured(net.source, net.arch_hash, trace_workload(net.model, net.example))
            k = len(engines)
            for runner, timing in zip(pair, timings[k * i : k * i + k]):
                measured.ms[runner.engine] = timing.ms
                measured.rel_iqr[runner.engine] = (timing.q3 - timing.q1) / timing.ms
                measured.quantiles[runner.engine] = {q: timing.at(q) for q in QUANTILES}
                if runner.engine == "onnxruntime":
                    measured.setup_ms = {
                        "export": runner.info["export_ms"],
                        "session": runner.info["session_ms"],
                    }
            out.append(measured)
    return out, failed


def fit_engines(measured: Sequence[Measured]) -> dict[str, HostPredictor]:
    """One predictor per engine, fitted on the same networks."""
    workloads = [m.workload for m in measured]
    return {e: fit_predictor(workloads, [m.ms[e] for m in measured]) for e in ENGINES}


def calibrate(
    problems: Problems,
    n_calibration: int = 300,
    seed: int = 0,
    progress: Progress | None = None,
    config: LatencyConfig = SWEEP_TIMING,
) -> tuple[DeviceProfile, list[Measured], dict[str, HostPredictor], dict[str, str]]:
    """Measure the host figures, sweep ``n_calibration`` random networks, fit the predictors.

    Returns:
        ``(host profile, calibration sweep, {engine: predictor}, failed networks)``; the
        profile carries the ONNX Runtime predictor.
    """
    figures: dict[str, float] = {**host_figures(), "on_chip_bytes": l2_cache_bytes()}
    measured, failed = sweep(sample_networks(problems, n_calibration, seed), config, None, progress)
    predictors = fit_engines(measured)
    return host_profile(figures, predictors["onnxruntime"]), measured, predictors, failed


def _accuracy(predictor: HostPredictor, measured: Sequence[Measured], engine: str) -> dict:
    return accuracy_report(
        [predictor.predict_ms(m.workload) for m in measured],
        [m.ms[engine] for m in measured],
        [m.workload.flops for m in measured],
    )


def _quantiles(values: Sequence[float]) -> dict[str, float]:
    q = np.quantile(np.asarray(values, dtype=float), [0.0, 0.25, 0.5, 0.75, 0.9, 1.0])
    return dict(zip(("min", "q1", "median", "q3", "p90", "max"), (float(v) for v in q)))


def engine_report(
    engine: str,
    predictor: HostPredictor,
    calibration: Sequence[Measured],
    first: Sequence[Measured],
    second: Sequence[Measured],
) -> dict[str, Any]:
    """One engine's predictor accuracy on the first test sweep, and the two sweeps' agreement."""
    measured = [m.ms[engine] for m in first]
    again = {m.arch_hash: m.ms[engine] for m in second}
    paired = [(m.ms[engine], again[m.arch_hash]) for m in first if m.arch_hash in again]
    report = _accuracy(predictor, first, engine)
    sources = sorted({m.source for m in first})
    report.update(
        {
            "calibration_fit": _accuracy(predictor, calibration, engine)["within_10pct"],
            "repeat_within_10pct": agreement([p[0] for p in paired], [p[1] for p in paired]),
            "repeat_spearman": spearman([p[0] for p in paired], [p[1] for p in paired]),
            "repeat_within_10pct_by_quantile": _repeat_by_quantile(engine, first, second),
            "median_rel_iqr": float(np.median([m.rel_iqr[engine] for m in first])),
            "latency_ms_range": [float(min(measured)), float(max(measured))],
            "by_source": {
                s: _accuracy(predictor, [m for m in first if m.source == s], engine)
                for s in sources
            },
        }
    )
    return report


def _repeat_by_quantile(
    engine: str, first: Sequence[Measured], second: Sequence[Measured]
) -> dict[str, float]:
    """Sweep-to-sweep agreement within ±10% had the protocol reported another quantile."""
    again = {m.arch_hash: m.quantiles[engine] for m in second}
    pairs = [(m.quantiles[engine], again[m.arch_hash]) for m in first if m.arch_hash in again]
    return {
        str(q): agreement([a[q] for a, _ in pairs], [b[q] for _, b in pairs]) for q in QUANTILES
    }


def _side_by_side(first: Sequence[Measured]) -> dict[str, Any]:
    """How the engines compare on the same networks: rank agreement and eager / ORT ratios."""
    ort, eager = [m.ms["onnxruntime"] for m in first], [m.ms["torch-eager"] for m in first]
    ratios = [e / o for e, o in zip(eager, ort)]
    sources = sorted({m.source for m in first})
    return {
        "engines_spearman": spearman(ort, eager),
        "eager_over_onnxruntime": {
            **_quantiles(ratios),
            "by_source": {
                s: _quantiles([r for r, m in zip(ratios, first) if m.source == s]) for s in sources
            },
        },
        "setup_ms": {
            "export": _quantiles([m.setup_ms["export"] for m in first]),
            "session": _quantiles([m.setup_ms["session"] for m in first]),
            "by_source": {
                s: {
                    k: float(np.median([m.setup_ms[k] for m in first if m.source == s]))
                    for k in ("export", "session")
                }
                for s in sources
            },
        },
        "onnxruntime_ms_by_source": {
            s: _quantiles([m.ms["onnxruntime"] for m in first if m.source == s]) for s in sources
        },
    }


def predictor_report(
    problems: Problems,
    n: int = 200,
    n_calibration: int = 300,
    seed: int = 0,
    progress: Progress | None = None,
    config: LatencyConfig = SWEEP_TIMING,
    out: str | Path | None = None,
) -> dict[str, Any]:
    """Calibrate on this machine, then report both engines on ``n`` fresh random networks.

    ``out``, when given, receives the calibrated ``host-cpu`` profile (as ``perf calibrate``).

    Returns:
        The deployed (ONNX Runtime) predictor's figures at the top level (``n``,
        ``within_10pct``, ``spearman``, ``repeat_within_10pct``, ...), ``engines`` with both
        engines' figures side by side, the engines' rank agreement and eager / ONNX Runtime
        ratios, the export and session times, the roofline's figures, the host profile, the
        timing settings and the machine's conditions before and after.
    """
    start = time.perf_counter()
    before = conditions()
    profile, cal, predictors, failed = calibrate(problems, n_calibration, seed, progress, config)
    if out is not None:
        write_profile(profile, out)
    excluded = {m.arch_hash for m in cal} | set(failed)
    networks = sample_networks(problems, n, seed + 1, exclude=excluded)
    first, failed_test = sweep(networks, config, None, progress)
    second, _ = sweep(networks, config, None, progress)
    engines = {e: engine_report(e, predictors[e], cal, first, second) for e in ENGINES}
    roofline = accuracy_report(
        [roofline_latency_ms(m.workload, profile) for m in first],
        [m.ms["onnxruntime"] for m in first],
        [m.workload.flops for m in first],
    )
    return {
        **engines["onnxruntime"],
        "engine": "onnxruntime",
        "n_calibration": len(cal),
        "engines": engines,
        **_side_by_side(first),
        "roofline_within_10pct": roofline["within_10pct"],
        "roofline_spearman": roofline["spearman"],
        "failed": {**failed, **failed_test},
        "sources": sorted({m.source for m in first}),
        "host": profile.model_dump(exclude={"sources", "calibration"}),
        "timing": config.to_dict(),
        "seed": seed,
        "conditions_before": before,
        "conditions_after": conditions(),
        "seconds": time.perf_counter() - start,
    }


def write_profile(profile: DeviceProfile, out: str | Path) -> Path:
    """Write ``profile`` as JSON to ``out``; returns the path."""
    path = Path(out)
    path.write_text(json.dumps(profile.model_dump(mode="json"), indent=2) + "\n")
    return path


def calibration_report(
    problems: Problems,
    out: str | Path,
    n_calibration: int = 300,
    seed: int = 0,
    progress: Progress | None = None,
    config: LatencyConfig = SWEEP_TIMING,
) -> dict[str, Any]:
    """Calibrate the host profile, write it to ``out``, and report the in-sample fit.

    Returns:
        ``{"profile": path, "in_sample": accuracy report, "failed", "conditions", **the
        profile's figures}``.
    """
    profile, measured, predictors, failed = calibrate(
        problems, n_calibration, seed, progress, config
    )
    return {
        "profile": str(write_profile(profile, out)),
        "in_sample": _accuracy(predictors["onnxruntime"], measured, "onnxruntime"),
        "failed": failed,
        "timing": config.to_dict(),
        "conditions": conditions(),
        **profile.model_dump(exclude={"sources"}),
    }
