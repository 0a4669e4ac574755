"""Saliency-Synapses-v0: kernel masks over a trained chain FCN, and evo-synthesis on it."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import darwin_bench  # noqa: F401  (registers the envs)
from baselines.runner import run_agent
from darwin_bench.costs import count_synapses
from darwin_bench.tasks.saliency_ancestor import SaliencyAncestorTask

ENV = "darwin_bench/Saliency-Synapses-v0"
FAST = {"epochs": 1, "task_kwargs": {"scenes": 60, "ancestor_epochs": 2}}


@pytest.fixture(scope="module")
def task() -> SaliencyAncestorTask:
    return SaliencyAncestorTask(scenes=60, ancestor_epochs=2, epochs=1)


def test_kernel_masks_form_a_chain_and_count_weights(task: SaliencyAncestorTask) -> None:
    space = task.space
    assert space.shapes == ((16, 3), (32, 16), (16, 32), (16, 16), (1, 16))
    for (_, cols), (rows, _) in zip(space.shapes[1:], space.shapes[:-1]):
        assert cols == rows  # a layer's inputs are the previous layer's outputs
    genome = space.full()
    genome[: 16 * 3] = 0  # remove every kernel of the first convolution
    model = task.build(space.decode(genome))
    assert count_synapses(model) == 11_968 - 16 * 3 * 9
    result = task.fit(space.decode(genome), seed=0, fidelity={"epochs": 1})
    assert count_synapses(result.model) == 11_968 - 16 * 3 * 9  # removed kernels stay removed
    assert result.metrics["mask_synapses"] == space.size - 48


def test_ancestor_and_trained_weights_are_kernel_strengths(task: SaliencyAncestorTask) -> None:
    weights = task.ancestor_weights()
    assert [w.shape for w, _ in weights] == list(task.space.shapes)
    assert all((w >= 0).all() and (w > 0).any() for w, _ in weights)
    assert 0.0 <= task.ancestor_metrics()["f_beta"] <= 1.0
    rng = np.random.default_rng(0)
    genome = (rng.random(task.space.size) < 0.5).astype(np.int8)
    arch = task.space.decode(genome)
    trained = task.trained_weights(arch, 3, {"epochs": 1})
    masks = task.space.masks(genome)
    assert all(((w != 0) == m).all() for (w, _), m in zip(trained, masks))
    assert task.trained_weights(arch, 3, {"epochs": 1})[1][0] == pytest.approx(trained[1][0])


def test_env_offspring_inherit_from_their_parent() -> None:
    env = gym.make(ENV, budget=3, measure_latency=False, **FAST)
    env.reset(seed=0)
    unwrapped = env.unwrapped
    genome = unwrapped.search_space.full()
    genome[:100] = 0
    _, _, _, _, info = env.step(genome)
    assert info["architecture"]["extra"]["init"] == {"from": "ancestor"}
    assert {"f_beta", "mae", "mask_synapses"} <= set(info["metrics"])
    child = genome.copy()
    child[100:200] = 0
    _, _, _, _, info2 = env.step(child)
    assert info2["architecture"]["extra"]["init"]["from"] == "parent"
    assert info2["costs"]["synapses"] < info["costs"]["synapses"]
    assert unwrapped.cost_target == ("synapses", pytest.approx(11_968 / 48))


@pytest.mark.parametrize("level", ["synapse", "cluster"])
def test_evo_synthesis_runs_unchanged_and_shrinks(tmp_path, level: str) -> None:
    def run(name: str) -> list:
        return run_agent(
            "evo-synthesis",
            ENV,
            budget=3,
            seed=5,
            out_dir=tmp_path / name,
            env_kwargs=FAST,
            agent_config={"offspring": 1, "level": level},
            resume=False,
        ).record.evaluations

    first, second = run("a"), run("b")
    assert [e.reward for e in first] == [e.reward for e in second]
    counts = [e.metrics["mask_synapses"] for e in first]
    assert counts == sorted(counts, reverse=True) and counts[0] < 1344
