"""A process pool gives the same evaluations as the serial executor (seeds fixed on the driver)."""

from __future__ import annotations

import numpy as np
import pytest

from darwin_bench.costs import CostConfig
from darwin_bench.evaluation import EvalRequest, Evaluator, ProcessPool
from darwin_bench.spaces import make_space
from darwin_bench.tasks import DigitsTask


@pytest.mark.slow  # spawns two workers that each import torch
def test_process_pool_matches_serial() -> None:
    task = DigitsTask(epochs=1)
    space = make_space("mlp", task.input_shape, task.num_outputs)
    rng = np.random.default_rng(0)
    batch = [EvalRequest(space.decode(space.sample(rng)), seed=i) for i in range(4)]
    serial = Evaluator(task, cost_config=CostConfig(latency=False)).evaluate(batch)
    pool = ProcessPool(2)
    try:
        parallel = Evaluator(task, cost_config=CostConfig(latency=False), executor=pool).evaluate(
            batch
        )
    finally:
        pool.close()
    assert [e.metrics for e in parallel] == [e.metrics for e in serial]
    assert [e.evaluation_id for e in parallel] == [e.evaluation_id for e in serial]
