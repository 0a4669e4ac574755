"""Killable workers: a hung job fails at the time limit, a dead worker is retried then recorded
as failed, results stay in order, and an env turns both into failed evaluations."""

from __future__ import annotations

import time

import gymnasium as gym
import numpy as np
import pytest
from fault_injection import FaultyDigits, faulty, square, square_or_raise

from darwin_bench.evaluation.workers import (
    FailurePolicy,
    TimeLimitExceeded,
    WorkerLost,
    WorkerPool,
)


def lost(item, error: Exception) -> Exception:
    """``on_lost``: record the error itself in the item's place."""
    return error


@pytest.fixture
def pool_factory():
    pools: list[WorkerPool] = []

    def make(workers: int = 2, **policy) -> WorkerPool:
        pools.append(WorkerPool(workers, FailurePolicy(**policy)))
        return pools[-1]

    yield make
    for pool in pools:
        pool.close()


def test_results_in_order_and_a_functions_error_is_raised(pool_factory) -> None:
    pool = pool_factory(2)
    assert pool(square, list(range(6))) == [0, 1, 4, 9, 16, 25]
    with pytest.raises(ValueError, match="three is not allowed"):
        pool(square_or_raise, list(range(6)))
    assert pool(square, [7]) == [49]  # the pool is still usable
    assert pool.stats["started"] == 2  # and kept its workers


def test_a_hung_job_fails_at_the_time_limit_and_the_others_finish(pool_factory, tmp_path) -> None:
    pool = pool_factory(2, time_limit=4.0)
    marker = str(tmp_path / "m")
    start = time.monotonic()
    out = pool(faulty, [("ok", marker), ("hang", marker), ("ok2", marker)], on_lost=lost)
    assert out[0] == "ok" and out[2] == "ok2"
    assert isinstance(out[1], TimeLimitExceeded)
    assert str(out[1]).startswith("stopped after 4.") and time.monotonic() - start < 120
    assert pool.stats["killed_at_time_limit"] == 1
    assert pool(faulty, [("again", marker)]) == ["again"]  # a fresh worker replaced it
    with pytest.raises(TimeLimitExceeded):  # without on_lost, the error is raised
        pool(faulty, [("hang", marker)])


def test_a_dead_worker_is_retried_then_the_job_fails(pool_factory, tmp_path) -> None:
    pool = pool_factory(1, retries=2)
    once = str(tmp_path / "once")
    jobs = [("die-once", once), ("die", str(tmp_path / "always")), ("ok", once)]
    out = pool(faulty, jobs, on_lost=lost)
    assert out[0] == "die-once"  # died on the first attempt, succeeded on the retry
    assert isinstance(out[1], WorkerLost)
    assert str(out[1]) == "worker process killed by signal 9 (3 attempts)"
    assert out[2] == "ok"
    assert pool.stats["died"] == 4 and pool.stats["retried"] == 3


def test_policy_is_checked() -> None:
    with pytest.raises(ValueError, match="time_limit must be a finite number > 0"):
        FailurePolicy(time_limit=0)
    with pytest.raises(ValueError, match="worker_retries must be an integer >= 0"):
        FailurePolicy(retries=-1)
    assert isinstance(FailurePolicy(retries=0).after_death(1, "gone"), WorkerLost)
    assert FailurePolicy(retries=1).after_death(1, "gone") is None  # run it again


def test_env_records_hung_and_dying_trainings_as_failed_evaluations() -> None:
    """One worker, a 30 s limit: a hung training and a killed one become failed evaluations
    (worst score, reason recorded, not cached); the search goes on."""
    env = gym.make(
        "darwin_bench/Digits-MLP-v0",
        task=FaultyDigits(epochs=1),
        budget=3,
        measure_latency=False,
        time_limit=30.0,
        worker_retries=1,
        batched=False,
    )
    try:
        env.reset(seed=0)
        layer = {16: 0, 32: 1, 64: 2}
        reasons = []
        for units in (16, 32, 64):
            genome = np.zeros(10, dtype=np.int64)
            genome[1] = layer[units]  # the first hidden layer's width
            info = env.step(genome)[4]
            reasons.append(info["reason"].split(":")[0])
        assert reasons == ["TimeLimitExceeded", "WorkerLost", ""]
        core = env.unwrapped.core
        assert len(core.evaluator.cache) == 1  # the failures are tried again by a later run
    finally:
        env.close()


def test_synapse_envs_refuse_a_time_limit() -> None:
    with pytest.raises(ValueError, match="time_limit is not supported by synapse envs"):
        gym.make("darwin_bench/Digits-Synapses-v0", time_limit=10.0)
