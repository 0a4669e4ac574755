"""Batched training of synapse-mask offspring (the ``synapses`` space, seed 000)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from darwin_bench.models.masked import EmptyLayerError
from darwin_bench.tasks.ancestor import AncestorTask

SMALL = {"hidden": [32, 32], "ancestor_epochs": 2, "epochs": 2}


@pytest.fixture(scope="module")
def tasks() -> tuple[AncestorTask, AncestorTask]:
    return AncestorTask(**SMALL), AncestorTask(batched=True, **SMALL)


def offspring(task: AncestorTask, keep: float, seed: int):
    genome = (np.random.default_rng(seed).random(task.space.size) < keep).astype(np.int8)
    return task.space.decode(genome)


def test_an_offspring_gets_the_same_bits_alone_and_in_a_batch(tasks) -> None:
    _, task = tasks
    archs = [offspring(task, keep, i) for i, keep in enumerate((0.9, 0.5, 0.3, 0.7))]
    together = task.fit_batch([(a, 10 + i, {}) for i, a in enumerate(archs)])
    alone = task.fit(archs[2], seed=12, fidelity={})
    assert alone.metrics == together[2].metrics and alone.test_metrics == together[2].test_metrics
    weights = task.trained_weights(archs[2], 12, {})
    task._states.clear()  # dropped from memory: re-trained on demand, alone, same bits
    again = task.trained_weights(archs[2], 12, {})
    assert all(np.array_equal(a, b) for pa, pb in zip(weights, again) for a, b in zip(pa, pb))


def test_batched_and_per_model_offspring_agree_in_distribution(tasks) -> None:
    per_model, batched = tasks
    archs = [offspring(batched, 0.6, 20 + i) for i in range(4)]
    a = [per_model.fit(x, seed=1, fidelity={}).metrics["accuracy"] for x in archs]
    b = [r.metrics["accuracy"] for r in batched.fit_batch([(x, 1, {}) for x in archs])]
    assert abs(np.mean(a) - np.mean(b)) < 0.05
    assert batched.config()["trainer"] == "batched" and "trainer" not in per_model.config()


def test_removed_synapses_stay_removed_and_padding_is_invisible(tasks) -> None:
    _, task = tasks
    arch = offspring(task, 0.4, 3)
    result = task.fit(arch, seed=4, fidelity={})
    masks = task.space.masks(task.space.encode(arch))
    for (w, _), mask in zip(task.trained_weights(arch, 4, {}), masks):
        assert not w[~mask].any()
    widths = [m.weight.shape[0] for m in result.model.linears]
    assert sum(widths[:-1]) == result.metrics["clusters"]  # the compact network, not padded


def test_an_emptied_layer_fails_alone(tasks) -> None:
    _, task = tasks
    good = offspring(task, 0.8, 5)
    genome = np.ones(task.space.size, dtype=np.int8)
    genome[: 64 * 32] = 0  # no synapse into the first hidden layer
    empty = task.space.decode(genome)
    results = task.fit_batch([(good, 1, {}), (empty, 1, {})])
    assert isinstance(results[1], EmptyLayerError)
    assert results[0].metrics == task.fit(good, seed=1, fidelity={}).metrics


def test_a_generation_is_one_population_env_step() -> None:
    kwargs = {
        "task_kwargs": {**SMALL, "batched": True},
        "space_kwargs": {"hidden": SMALL["hidden"]},
        "epochs": 2,
        "measure_latency": False,
        "budget": 8,
    }
    venv = gym.make_vec(
        "darwin_bench/Digits-Synapses-v0",
        num_envs=3,
        vectorization_mode="vector_entry_point",
        **kwargs,
    )
    env = gym.make("darwin_bench/Digits-Synapses-v0", **kwargs)
    try:
        space = venv.unwrapped.search_space
        genomes = np.stack([space.sample(np.random.default_rng(i)) for i in range(3)])
        venv.reset(seed=0)
        env.reset(seed=0)
        _, rewards, _, _, _ = venv.step(genomes)
        for genome, reward in zip(genomes, rewards):  # first generation: all from the ancestor
            assert env.step(genome)[1] == reward
    finally:
        venv.close()
        env.close()
