"""Medians over repeated evaluations of one network (``darwin-bench bench-task``, docs/tasks.md)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from darwin_bench.evaluation.record import Evaluation

#: Costs reported beside the metrics (medians over the successful evaluations).
SUMMARY_COSTS = ("params", "flops", "latency_ms")


def summarize_evaluations(evaluations: Sequence[Evaluation], metric: str) -> dict[str, Any]:
    """Medians over ``evaluations`` (full records): wall and train seconds of all of them;
    median, min and max of every metric and test metric, and medians of
    :data:`SUMMARY_COSTS` (as ``cost_<name>``), over the successful ones.

    Raises:
        ValueError: for no evaluations.
    """
    if not evaluations:
        raise ValueError("evaluations must not be empty")
    ok = [e for e in evaluations if e.status == "ok"]
    out: dict[str, Any] = {
        "evaluations": len(evaluations),
        "failed": len(evaluations) - len(ok),
        "median_wall_seconds": statistics.median(e.wall_seconds for e in evaluations),
        "median_train_seconds": statistics.median(e.train_seconds for e in evaluations),
        "metric": metric,
    }
    if ok:
        for key in {**ok[0].metrics, **ok[0].test_metrics}:
            values = [{**e.metrics, **e.test_metrics}[key] for e in ok]
            out[key] = {"median": statistics.median(values), "min": min(values), "max": max(values)}
        for key in SUMMARY_COSTS:
            if key in ok[0].costs:
                out[f"cost_{key}"] = statistics.median(e.costs[key] for e in ok)
    return out
