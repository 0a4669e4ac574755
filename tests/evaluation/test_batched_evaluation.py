"""The evaluator's batched path: jobs, cache keys, workers, failures."""

from __future__ import annotations

import numpy as np
import pytest

from darwin_bench.architecture import Architecture
from darwin_bench.costs import CostConfig
from darwin_bench.evaluation import EvalRequest, Evaluator
from darwin_bench.evaluation.evaluator import plan_jobs
from darwin_bench.evaluation.executors import ProcessPool
from darwin_bench.spaces import make_space

NO_LATENCY = CostConfig(latency=False)


def requests(n: int, seed: int = 0, epochs: int = 2) -> list[EvalRequest]:
    space = make_space("mlp", (64,), 10)
    rng = np.random.default_rng(seed)
    return [
        EvalRequest(space.decode(space.sample(rng)), seed=10 + i, fidelity={"epochs": epochs})
        for i in range(n)
    ]


def squashed() -> EvalRequest:
    """A dense stack with an activated output layer: no batched trainer, trained alone."""
    layers = (
        {"type": "dense", "units": 16, "activation": "relu"},
        {"type": "dense", "units": 10, "activation": "sigmoid"},
    )
    return EvalRequest(Architecture("mlp", (64,), 10, layers), seed=3, fidelity={"epochs": 2})


def test_plan_jobs_batches_by_key_and_splits_for_workers() -> None:
    items = [(str(i), None) for i in range(7)]
    keys = ["a", "a", None, "b", "a", "a", "a"]
    jobs = plan_jobs(items, keys, parallel=2, max_batch=100)  # type: ignore[arg-type]
    assert jobs == [
        (False, [("2", None)]),
        (True, [("0", None), ("1", None), ("4", None)]),
        (True, [("5", None), ("6", None)]),
        (True, [("3", None)]),
    ]
    small = plan_jobs(items, ["a"] * 7, parallel=1, max_batch=3)  # type: ignore[arg-type]
    assert [len(j[1]) for j in small] == [3, 2, 2]


def test_batched_results_and_keys_differ_from_the_per_model_trainer(digits_task) -> None:
    batch = requests(3)
    per_model = Evaluator(digits_task, cost_config=NO_LATENCY)
    batched = Evaluator(digits_task, cost_config=NO_LATENCY, batched=True)
    assert [per_model.key(r) for r in batch] != [batched.key(r) for r in batch]
    assert per_model.key(squashed()) == batched.key(squashed())  # not batchable: same trainer
    out = batched.evaluate([*batch, squashed()])
    assert all(e.ok for e in out)
    assert [e.evaluation_id for e in out] == [batched.key(r) for r in [*batch, squashed()]]
    assert batched.describe()["batched"] is True


def test_a_network_evaluates_alike_alone_in_a_population_and_in_workers(digits_task) -> None:
    batch = requests(5, seed=1)
    together = Evaluator(digits_task, cost_config=NO_LATENCY, batched=True).evaluate(batch)
    alone = Evaluator(digits_task, cost_config=NO_LATENCY, batched=True).evaluate(batch[3:4])
    assert alone[0].metrics == together[3].metrics
    assert alone[0].test_metrics == together[3].test_metrics
    pool = ProcessPool(2)
    try:
        parallel = Evaluator(
            digits_task, cost_config=NO_LATENCY, batched=True, executor=pool
        ).evaluate(batch)
    finally:
        pool.close()
    assert [e.metrics for e in parallel] == [e.metrics for e in together]
    assert [e.costs for e in parallel] == [e.costs for e in together]


def test_a_failing_batch_fails_its_networks_not_the_search(digits_task, monkeypatch) -> None:
    def broken(requests):
        raise MemoryError("out of memory")

    monkeypatch.setattr(digits_task, "fit_batch", broken)
    evaluator = Evaluator(digits_task, cost_config=NO_LATENCY, batched=True)
    out = evaluator.evaluate(requests(2))
    assert [e.status for e in out] == ["failed", "failed"]
    assert out[0].reason == "MemoryError: out of memory"
    assert len(evaluator.cache) == 0  # not deterministic: retried next time


@pytest.mark.parametrize("bad", [0, -1])
def test_max_batch_must_be_positive(digits_task, bad) -> None:
    with pytest.raises(ValueError, match="max_batch"):
        Evaluator(digits_task, batched=True, max_batch=bad)
