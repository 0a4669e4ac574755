"""The Ray executor on a local Ray instance with 2 CPUs (one instance for the module)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from darwin_bench.costs import CostConfig
from darwin_bench.evaluation import EvalRequest, Evaluator
from darwin_bench.evaluation.executors import ProcessPool, make_executor
from darwin_bench.evaluation.ray_executor import RayExecutor
from darwin_bench.spaces import make_space
from darwin_bench.tasks.digits import DigitsTask

ray = pytest.importorskip("ray")  # the [ray] extra; CI installs it with the test extra

NO_LATENCY = CostConfig(latency=False)
DRIVER = os.getpid()


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def requests(n: int, epochs: int = 1) -> list[EvalRequest]:
    space = make_space("mlp", (64,), 10)
    rng = np.random.default_rng(5)
    return [
        EvalRequest(space.decode(space.sample(rng)), seed=20 + i, fidelity={"epochs": epochs})
        for i in range(n)
    ]


@pytest.mark.parametrize("batched", [False, True])
def test_results_are_identical_to_a_local_run(digits_task, batched) -> None:
    batch = requests(4)
    local = Evaluator(digits_task, cost_config=NO_LATENCY, batched=batched).evaluate(batch)
    remote = Evaluator(
        digits_task, cost_config=NO_LATENCY, batched=batched, executor=RayExecutor()
    ).evaluate(batch)
    assert [e.evaluation_id for e in remote] == [e.evaluation_id for e in local]
    assert [e.metrics for e in remote] == [e.metrics for e in local]
    assert [e.test_metrics for e in remote] == [e.test_metrics for e in local]
    assert [e.costs for e in remote] == [e.costs for e in local]


def _dies_once(marker: str) -> int:
    if not Path(marker).exists():
        Path(marker).touch()
        os._exit(1)  # the worker process dies without a word
    return os.getpid()


def test_a_lost_worker_is_retried(tmp_path) -> None:
    lost: list[object] = []
    out = RayExecutor()(_dies_once, [str(tmp_path / "died")], on_lost=lambda i, r: lost.append(i))
    assert lost == [] and isinstance(out[0], int)


def _always_dies(item: int) -> int:
    if item == 1:
        os._exit(1)
    return item * 10


def test_a_worker_lost_every_time_is_handed_to_on_lost() -> None:
    out = RayExecutor(retries=1)(_always_dies, [0, 1, 2], on_lost=lambda i, r: f"lost {i}: {r}")
    assert out[0] == 0 and out[2] == 20
    assert out[1].startswith("lost 1: Ray ") and out[1].endswith("(2 attempts)")


class KillingTask(DigitsTask):
    """Digits, except that training a 16-unit first layer kills the worker."""

    def fit(self, architecture, *, seed, fidelity):
        if architecture.layers[0].get("units") == 16 and os.getpid() != DRIVER:
            os._exit(1)
        return super().fit(architecture, seed=seed, fidelity=fidelity)


def test_the_evaluator_records_lost_networks_as_failed_and_uncached() -> None:
    task = KillingTask(epochs=1)
    batch = requests(6)
    assert any(r.architecture.layers[0]["units"] == 16 for r in batch)
    evaluator = Evaluator(task, cost_config=NO_LATENCY, executor=RayExecutor(retries=1))
    out = evaluator.evaluate(batch)
    for request, evaluation in zip(batch, out):
        if request.architecture.layers[0]["units"] == 16:
            assert evaluation.status == "failed"
            assert evaluation.reason.startswith("WorkerLost: Ray ")
            assert evaluation.reason.endswith("(2 attempts)")
            assert evaluation.costs["params"] > 0  # measured on the driver
        else:
            assert evaluation.ok
    assert len(evaluator.cache) == sum(e.ok for e in out)


def test_make_executor_names_the_allowed_forms() -> None:
    executor = make_executor("ray:auto")
    assert isinstance(executor, RayExecutor) and executor.address == "auto"
    assert make_executor("ray", workers=3).workers == 3
    assert isinstance(make_executor("local", workers=2), ProcessPool)
    with pytest.raises(ValueError, match="'local', 'ray' or 'ray:ADDRESS'"):
        make_executor("dask")


def test_population_env_on_ray_equals_the_local_one() -> None:
    kwargs = {"epochs": 1, "measure_latency": False}
    make = lambda **extra: gym.make_vec(  # noqa: E731
        "darwin_bench/Digits-MLP-v0",
        num_envs=3,
        vectorization_mode="vector_entry_point",
        **kwargs,
        **extra,
    )
    local, remote = make(), make(executor="ray")
    try:
        genomes = np.stack(
            [local.unwrapped.search_space.sample(np.random.default_rng(i)) for i in range(3)]
        )
        local.reset(seed=0)
        remote.reset(seed=0)
        _, r1, *_ = local.step(genomes)
        _, r2, *_ = remote.step(genomes)
        assert list(r1) == list(r2)
    finally:
        local.close()
        remote.close()
