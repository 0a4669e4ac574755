"""``perf overhead``: what an env step costs beyond training and costing its network.

Each timed step evaluates a new network (no cache hits) through ``env.step`` with a run log
attached, as ``darwin-bench run`` does. The evaluation record says how long training and cost
measurement took (``wall_seconds``); everything else in the step is overhead: decoding and
validating the genome, cache keys and lookups, the reward, ``info``, listeners, and the run log
line (timed on its own as well). One untimed step first pays one-off costs.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from darwin_bench.evaluation import Evaluation
from darwin_bench.perf.machine import conditions
from darwin_bench.runlog import RunLog
from darwin_bench.validation import check_positive_int


def distinct_genomes(space: Any, n: int, seed: int) -> list[np.ndarray]:
    """``n`` genomes of ``space`` that decode to distinct architectures.

    Raises:
        ValueError: when the space does not have ``n`` distinct architectures within reach.
    """
    rng = np.random.default_rng(seed)
    out: dict[str, np.ndarray] = {}
    for _ in range(100 * n):
        genome = space.sample(rng)
        out.setdefault(space.decode(genome).hash, genome)
        if len(out) == n:
            return list(out.values())
    raise ValueError(f"steps: could not draw {n} distinct networks from space {space.name!r}")


def overhead_benchmark(
    make_env: Callable[[], Any],
    core_of: Callable[[Any], Any],
    *,
    steps: int = 20,
    seed: int = 0,
) -> dict[str, Any]:
    """Time ``steps`` env steps and the work inside them; return the figures as JSON.

    Args:
        make_env: builds the (proposal) env to measure, e.g. ``lambda: gym.make(id)``.
        core_of: the env's search core (``envs.framework.search_core``; passed in because
            envs sits above this package).
        steps: timed steps (one more, untimed, comes first).
        seed: reset and sampling seed.
    """
    check_positive_int("steps", steps)
    env = make_env()
    core = core_of(env)
    if core.budget < steps + 1:
        raise ValueError(f"steps: the env's budget {core.budget} is below steps + 1")
    logged: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        log = RunLog(Path(folder) / "run.jsonl", {"benchmark": "overhead"}, cost=core.reward.cost)

        def record(evaluation: Evaluation) -> None:
            start = time.perf_counter()
            log.append(evaluation)
            logged.append(time.perf_counter() - start)

        core.add_recorder(record)
        env.reset(seed=seed)
        genomes = distinct_genomes(env.unwrapped.search_space, steps + 1, seed)
        env.step(genomes[0])
        step_s, work_s = [], []
        for genome in genomes[1:]:
            start = time.perf_counter()
            info = env.step(genome)[4]
            step_s.append(time.perf_counter() - start)
            work_s.append(float(info["evaluation"].wall_seconds))
        log.close(seconds=sum(step_s))
    env.close()
    step, work, runlog = float(np.sum(step_s)), float(np.sum(work_s)), float(np.sum(logged[1:]))
    fraction = (step - work) / step
    return {
        "steps": steps,
        "mean_step_seconds": round(step / steps, 5),
        "mean_training_and_costing_seconds": round(work / steps, 5),
        "mean_overhead_seconds": round((step - work) / steps, 6),
        "mean_runlog_seconds": round(runlog / steps, 6),
        "overhead_fraction": round(fraction, 5),
        "runlog_fraction": round(runlog / step, 5),
        "target": {"max_overhead_fraction": 0.05},
        "meets_target": bool(fraction <= 0.05),
        "conditions": conditions(),
    }
