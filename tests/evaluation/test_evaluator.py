from __future__ import annotations

import numpy as np
import pytest

from darwin_bench.costs import CostConfig
from darwin_bench.evaluation import EvalRequest, Evaluator, SQLiteCache
from darwin_bench.spaces import make_space
from darwin_bench.tasks import ClassificationTask
from darwin_bench.tasks.digits import digits_splits

NO_LATENCY = CostConfig(latency=False)


class CountingTask(ClassificationTask):
    """The Digits task, counting how often it trains."""

    def __init__(self, scale: float = 1.0) -> None:
        train, val, test = digits_splits()
        super().__init__("digits-counting", (train[0] * scale, train[1]), val, test, epochs=2)
        self.fits = 0

    def fit(self, architecture, *, seed, fidelity):
        self.fits += 1
        return super().fit(architecture, seed=seed, fidelity=fidelity)


@pytest.fixture
def space():
    return make_space("mlp", (64,), 10)


def requests(space, n: int, seed: int = 0) -> list[EvalRequest]:
    rng = np.random.default_rng(seed)
    return [EvalRequest(space.decode(space.sample(rng)), seed=11) for _ in range(n)]


def test_repeated_evaluation_trains_nothing(space) -> None:
    task = CountingTask()
    evaluator = Evaluator(task, cost_config=NO_LATENCY)
    batch = requests(space, 3)
    first = evaluator.evaluate(batch)
    assert task.fits == 3
    again = evaluator.evaluate(batch + batch[:1])
    assert task.fits == 3  # nothing trained the second time
    assert [e.metrics for e in again[:3]] == [e.metrics for e in first]
    assert evaluator.stats == {"requested": 7, "trained": 3, "cache_hits": 4}


def test_duplicates_in_one_population_train_once(space) -> None:
    task = CountingTask()
    batch = requests(space, 1) * 4
    out = Evaluator(task, cost_config=NO_LATENCY).evaluate(batch)
    assert task.fits == 1
    assert len({e.evaluation_id for e in out}) == 1
    out[0].reward = 1.0
    assert out[1].reward is None  # each returned record is its own copy


def test_key_depends_on_seed_fidelity_and_architecture(space) -> None:
    evaluator = Evaluator(CountingTask(), cost_config=NO_LATENCY)
    [req] = requests(space, 1)
    key = evaluator.key(req)
    assert evaluator.key(EvalRequest(req.architecture, 12)) != key
    assert evaluator.key(EvalRequest(req.architecture, 11, {"epochs": 3})) != key
    assert evaluator.key(EvalRequest(req.architecture, 11, {"epochs": 2})) == key


def test_same_seed_same_result_in_fresh_evaluators(space) -> None:
    batch = requests(space, 2)
    a = Evaluator(CountingTask(), cost_config=NO_LATENCY).evaluate(batch)
    b = Evaluator(CountingTask(), cost_config=NO_LATENCY).evaluate(batch)
    assert [e.metrics for e in a] == [e.metrics for e in b]
    assert [e.costs for e in a] == [e.costs for e in b]


def test_sqlite_cache_is_shared_between_evaluators(space, tmp_path) -> None:
    batch = requests(space, 2)
    first_task = CountingTask()
    Evaluator(first_task, cost_config=NO_LATENCY, cache=SQLiteCache(tmp_path / "c.db")).evaluate(
        batch
    )
    second_task = CountingTask()
    cache = SQLiteCache(tmp_path / "c.db")
    out = Evaluator(second_task, cost_config=NO_LATENCY, cache=cache).evaluate(batch)
    assert first_task.fits == 2 and second_task.fits == 0
    assert len(cache) == 2 and all(e.ok for e in out)


def test_diverging_training_is_a_failed_evaluation(space) -> None:
    task = CountingTask(scale=1e38)  # inputs overflow float32 products: the loss becomes inf
    genomes = [[0] * 10, [1, 4, 0, 4, 0, 0, 0, 0, 0, 0]]  # 16 and 256-256 ReLU units
    batch = [EvalRequest(space.decode(g), seed=11) for g in genomes]
    out = Evaluator(task, cost_config=NO_LATENCY).evaluate(batch)
    assert all(e.status == "failed" for e in out)
    assert all("TrainingDiverged" in e.reason for e in out)
    assert all(e.costs["params"] > 0 for e in out)  # still costed


def test_latency_is_measured_with_iqr(space) -> None:
    out = Evaluator(CountingTask()).evaluate(requests(space, 1))[0]
    # latency_ms is the protocol's low quantile (the fastest block): at most the upper quartile
    assert 0 < out.costs["latency_ms"] <= out.costs["latency_ms_q3"]
    assert out.costs["latency_ms_q1"] <= out.costs["latency_ms_q3"]


class FlakyTask(CountingTask):
    """Raises an ordinary exception on its first fit, then trains normally."""

    def fit(self, architecture, *, seed, fidelity):
        self.fits += 1
        if self.fits == 1:
            raise RuntimeError("worker lost")
        return ClassificationTask.fit(self, architecture, seed=seed, fidelity=fidelity)


def test_non_deterministic_failures_are_recorded_but_not_cached(space) -> None:
    task = FlakyTask()
    evaluator = Evaluator(task, cost_config=NO_LATENCY)
    batch = requests(space, 1)
    [first] = evaluator.evaluate(batch)
    assert first.status == "failed" and first.reason == "RuntimeError: worker lost"
    [second] = evaluator.evaluate(batch)
    assert second.ok and task.fits == 2  # retried, then cached
    evaluator.evaluate(batch)
    assert task.fits == 2


def test_divergence_is_cached(space) -> None:
    task = CountingTask(scale=1e38)
    evaluator = Evaluator(task, cost_config=NO_LATENCY)
    batch = [EvalRequest(space.decode([0] * 10), seed=11)]
    evaluator.evaluate(batch)
    evaluator.evaluate(batch)
    assert task.fits == 1
