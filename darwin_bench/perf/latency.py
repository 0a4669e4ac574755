"""``perf latency``: one network's host latency, measured several times, and how much it varies."""

from __future__ import annotations

import statistics
from typing import Any

import torch

from darwin_bench.architecture import Architecture
from darwin_bench.costs import LatencyConfig, measure_latency_ms
from darwin_bench.perf.networks import build
from darwin_bench.tasks.base import Task
from darwin_bench.validation import check_positive_int


def latency_report(task: Task, architecture: Architecture, runs: int = 5) -> dict[str, Any]:
    """Time one untrained network ``runs`` times at batch 1 and at batch 64.

    Returns:
        ``{"architecture", "timing", "batch_1": {...}, "batch_64": {...}, ...}`` where each
        batch entry has the median of the runs' medians, the runs, their spread
        ((max - min) / median) and the median relative inter-quartile range of one run.
    """
    runs = check_positive_int("runs", runs)
    model = build(task, architecture)
    config = LatencyConfig()
    result: dict[str, Any] = {"architecture": architecture.to_dict(), "timing": config.to_dict()}
    for batch in (1, 64):
        example = task.example_input(batch)
        medians, iqrs = [], []
        for _ in range(runs):
            timed = measure_latency_ms(model, example, config)
            medians.append(timed["median"])
            iqrs.append(timed["q3"] - timed["q1"])
        result[f"batch_{batch}"] = {
            "median_ms": statistics.median(medians),
            "runs_ms": medians,
            "run_spread": (max(medians) - min(medians)) / statistics.median(medians),
            "median_rel_iqr": statistics.median(i / m for i, m in zip(iqrs, medians)),
        }
    result["torch_threads_during_timing"] = config.threads
    result["torch_version"] = torch.__version__
    return result
