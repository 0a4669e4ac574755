"""Default reward targets for costs a task does not give one for: the space's median network.

The target of a cost without a task default is the median of that cost over a fixed sample of
the space's networks (untrained; seed 0), so that ``mnasnet``-style rewards are centred on a
typical network of the space. Only exact and modeled costs get one: a measured cost would make
the target, and so every reward, depend on the machine's load. The sample is traced once per
(task, space) and process; every cost and device is read off the same traces.
"""

from __future__ import annotations

import json
import statistics

import numpy as np

from darwin_bench.costs import DEVICES, CostConfig, cost_kind, measure_costs, parse_cost
from darwin_bench.seeding import derive_seed, torch_determinism
from darwin_bench.spaces.base import SearchSpace
from darwin_bench.tasks.base import Task

#: Networks the median is taken over.
REFERENCE_SAMPLES = 16

_CACHE: dict[str, list[dict[str, float]]] = {}


def reference_costs(task: Task, space: SearchSpace) -> list[dict[str, float]]:
    """Every exact and modeled cost of :data:`REFERENCE_SAMPLES` networks sampled from ``space``."""
    key = json.dumps([task.spec(), space.describe(), sorted(DEVICES)], sort_keys=True, default=str)
    if key not in _CACHE:
        config = CostConfig(latency=False, devices=tuple(DEVICES.values()))
        rng = np.random.default_rng(0)
        samples = []
        for _ in range(REFERENCE_SAMPLES):
            architecture = space.decode(space.sample(rng))
            with torch_determinism(derive_seed(0, architecture.hash)):
                model = task.build(architecture)
            samples.append(measure_costs(model, task.example_input(1), config))
        _CACHE[key] = samples
    return _CACHE[key]


def reference_target(cost: str, task: Task, space: SearchSpace) -> float:
    """The median of ``cost`` over the space's reference sample (see :func:`reference_costs`).

    Raises:
        ValueError: for an unknown cost, or a measured cost (its target must be given).
    """
    parse_cost(cost)
    if cost_kind(cost) == "measured":
        raise ValueError(f"target is required for the measured cost {cost!r} on task {task.name!r}")
    values = [s[cost] for s in reference_costs(task, space)]
    return max(float(statistics.median(values)), 1e-12)
