"""``perf latency-targets``: the tasks' default ``latency_ms`` targets, by one documented rule.

A reward target is an input of the benchmark, not a result: ``mnasnet``-style rewards are
centred on it, so it should sit at a *typical* network of the task. The rule, the same as
:mod:`envs.targets` uses for exact and modeled costs: the target is the median ``latency_ms``
(ONNX Runtime, the protocol of :mod:`darwin_bench.costs.latency`) of :data:`REFERENCE_SAMPLES`
random, untrained networks of every registered space of the task (sampling seed 0), rounded to
two significant figures. No trained network and no search result enters it.

All networks of all tasks are timed (in ONNX Runtime only) in one interleaved sweep, so they
see the same machine. The printed targets are what the task classes'
``default_targets["latency_ms"]`` hold; they were measured on the machine and at the load
recorded in docs/costs.md.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

from darwin_bench.costs import LatencyConfig
from darwin_bench.perf.conditions import conditions
from darwin_bench.perf.latency_predictor import SWEEP_TIMING, Problems, Progress, sweep
from darwin_bench.perf.networks import sample_networks

#: Random networks per (task, space), as in :mod:`envs.targets`.
REFERENCE_SAMPLES = 16


def round_significant(value: float, digits: int = 2) -> float:
    """``value`` rounded to ``digits`` significant figures (positive values)."""
    if value <= 0:
        raise ValueError(f"value must be positive; got {value!r}")
    return round(value, digits - 1 - math.floor(math.log10(value)))


def latency_targets(
    problems: Problems,
    samples: int = REFERENCE_SAMPLES,
    seed: int = 0,
    config: LatencyConfig = SWEEP_TIMING,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Measure the reference networks of every problem and propose each task's target.

    Args:
        problems: ``(<task>/<space>, task, space)`` triples; problems of one task are pooled.
        samples: random networks per problem.
        seed: sampling seed.
        config: the timing protocol.
        progress: called with (steps done, steps planned).

    Returns:
        ``{"tasks": {task: {"target", "current", "median_ms", "n", "by_space"}}, "failed",
        "timing", "samples", "seed", "conditions_before", "conditions_after"}``.
    """
    before = conditions()
    networks = [n for p in problems for n in sample_networks([p], samples, seed)]
    measured, failed = sweep(networks, config, None, progress, engines=("onnxruntime",))
    current = {
        name.split("/")[0]: task.default_targets.get("latency_ms") for name, task, _ in problems
    }
    tasks: dict[str, Any] = {}
    for task_name in sorted(current):
        mine = [m for m in measured if m.source.split("/")[0] == task_name]
        if not mine:
            continue
        ms = [m.ms["onnxruntime"] for m in mine]
        spaces = sorted({m.source for m in mine})
        tasks[task_name] = {
            "target": round_significant(statistics.median(ms)),
            "current": current[task_name],
            "median_ms": statistics.median(ms),
            "n": len(ms),
            "by_space": {
                s: statistics.median(m.ms["onnxruntime"] for m in mine if m.source == s)
                for s in spaces
            },
        }
    return {
        "tasks": tasks,
        "failed": failed,
        "timing": config.to_dict(),
        "samples": samples,
        "seed": seed,
        "conditions_before": before,
        "conditions_after": conditions(),
    }
