"""What the time limit costs: evaluations in a killable worker process vs in this process.

Setting ``time_limit`` runs every evaluation in a worker process (see
:mod:`darwin_bench.evaluation.workers`): each request and result crosses a pipe, and the
worker has to start once. :func:`worker_overhead` evaluates the same networks both ways,
interleaved one by one (as an env's steps run them), and reports the medians and the median
per-evaluation difference, side by side so that machine load affects both alike.
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Any

import numpy as np

from darwin_bench.costs import CostConfig
from darwin_bench.evaluation import EvalRequest, Evaluator, ProcessPool
from darwin_bench.spaces.base import SearchSpace
from darwin_bench.tasks.base import Task


def worker_overhead(
    task: Task, space: SearchSpace, *, evaluations: int = 20, seed: int = 0
) -> dict[str, Any]:
    """Seconds per evaluation in process and in a time-limited worker, for the same networks.

    Returns:
        JSON-able: medians of both, the median per-evaluation overhead in seconds and as a
        fraction of the in-process time, the worker's start-up seconds, and the load average.
    """
    rng = np.random.default_rng(seed)
    requests = [EvalRequest(space.decode(space.sample(rng)), seed=i) for i in range(evaluations)]
    costs = CostConfig(latency=False)
    local = Evaluator(task, cost_config=costs)
    pool = ProcessPool(1, time_limit=3600.0)
    remote = Evaluator(task, cost_config=costs, executor=pool)
    try:
        started = time.perf_counter()
        remote.evaluate([EvalRequest(requests[0].architecture, seed=2**31 - 1)])  # warm-up
        startup = time.perf_counter() - started
        inside: list[float] = []
        outside: list[float] = []
        for request in requests:
            for evaluator, times in ((local, inside), (remote, outside)):
                t0 = time.perf_counter()
                evaluator.evaluate([request])
                times.append(time.perf_counter() - t0)
    finally:
        pool.close()
    extra = [b - a for a, b in zip(inside, outside)]
    median_inside = statistics.median(inside)
    return {
        "evaluations": evaluations,
        "in_process_seconds": median_inside,
        "worker_seconds": statistics.median(outside),
        "overhead_seconds": statistics.median(extra),
        "overhead_fraction": statistics.median(extra) / median_inside,
        "worker_startup_seconds": startup,
        "load_average_1min": os.getloadavg()[0],
        "cpus": os.cpu_count(),
    }
