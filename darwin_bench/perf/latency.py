"""``perf latency``: one network measured several times, as every evaluation measures it.

Each run is an independent measurement: a fresh ONNX Runtime export and session, then the
timing protocol (:mod:`darwin_bench.costs.latency`) with ONNX Runtime and PyTorch eager
interleaved in the same rounds. The report gives, per engine, the runs, how often two runs
agree within ±10% (for the protocol's statistic and for other quantiles of the same samples),
the eager / ONNX Runtime ratio, and the cost of exporting and loading the network.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

import numpy as np

from darwin_bench.architecture import Architecture
from darwin_bench.costs import LatencyConfig, measure_engines
from darwin_bench.perf.conditions import conditions
from darwin_bench.perf.networks import build
from darwin_bench.tasks.base import Task
from darwin_bench.validation import check_positive_int

#: The engines, deployed first.
ENGINES = ("onnxruntime", "torch-eager")

#: Quantiles whose run-to-run agreement is reported beside the protocol's own.
QUANTILES = (0.0, 0.1, 0.2, 0.25, 0.5)

#: Two measurements agree when the second is within this share of the first.
TOLERANCE = 0.10


def agreement(
    first: Sequence[float], second: Sequence[float], tolerance: float = TOLERANCE
) -> float:
    """Share of pairs whose second value is within ``tolerance`` (relative) of the first."""
    a, b = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    return float(np.mean(np.abs(b - a) <= tolerance * a)) if len(a) else float("nan")


def pairwise_agreement(values: Sequence[float], tolerance: float = TOLERANCE) -> float:
    """:func:`agreement` over every pair of runs (earlier run first)."""
    pairs = [(values[i], values[j]) for i in range(len(values)) for j in range(i + 1, len(values))]
    return agreement([p[0] for p in pairs], [p[1] for p in pairs], tolerance)


def _summary(runs: list[dict[str, Any]], quantile: float) -> dict[str, Any]:
    ms = [r["ms"] for r in runs]
    return {
        "median_ms": statistics.median(ms),
        "runs_ms": ms,
        "run_spread": (max(ms) - min(ms)) / statistics.median(ms),
        "repeat_within_10pct": pairwise_agreement(ms) if len(ms) > 1 else None,
        "repeat_within_10pct_by_quantile": {
            str(q): pairwise_agreement([r["quantiles"][q] for r in runs]) if len(ms) > 1 else None
            for q in QUANTILES
        },
        "protocol_quantile": quantile,
        "median_rel_iqr": statistics.median(r["iqr"] / r["median"] for r in runs),
    }


def latency_report(
    task: Task,
    architecture: Architecture,
    runs: int = 5,
    config: LatencyConfig | None = None,
    batches: Sequence[int] = (1, 64),
) -> dict[str, Any]:
    """Measure one untrained network ``runs`` times in both engines at each batch size.

    Returns:
        ``{"architecture", "timing", "conditions_before", "conditions_after",
        "batch_<b>": {"onnxruntime": {...}, "torch-eager": {...}, "eager_over_onnxruntime",
        "setup_ms"}}``; each engine entry holds ``median_ms``, ``runs_ms``, ``run_spread``,
        ``repeat_within_10pct`` (and per quantile) and ``median_rel_iqr``.
    """
    runs = check_positive_int("runs", runs)
    config = config or LatencyConfig()
    model = build(task, architecture)
    result: dict[str, Any] = {
        "architecture": architecture.to_dict(),
        "timing": config.to_dict(),
        "conditions_before": conditions(),
    }
    for batch in batches:
        example = task.example_input(batch)
        measured: dict[str, list[dict[str, Any]]] = {e: [] for e in ENGINES}
        setup: list[tuple[float, float]] = []
        for _ in range(runs):
            for engine, (timing, info) in measure_engines(model, example, ENGINES, config).items():
                measured[engine].append(
                    {
                        "ms": timing.ms,
                        "median": timing.median,
                        "iqr": timing.q3 - timing.q1,
                        "quantiles": {q: timing.at(q) for q in QUANTILES},
                    }
                )
                if engine == "onnxruntime":
                    setup.append((info["export_ms"], info["session_ms"]))
        ratios = [
            e["ms"] / o["ms"] for e, o in zip(measured["torch-eager"], measured["onnxruntime"])
        ]
        result[f"batch_{batch}"] = {
            **{e: _summary(measured[e], config.quantile) for e in ENGINES},
            "eager_over_onnxruntime": {"median": statistics.median(ratios), "runs": ratios},
            "setup_ms": {
                "export": statistics.median(s[0] for s in setup),
                "session": statistics.median(s[1] for s in setup),
            },
        }
    result["conditions_after"] = conditions()
    return result
