"""Digits-Synapses-v0's task: masks over a trained ancestor MLP, the lineage of its offspring."""

from __future__ import annotations

import pickle
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import darwin_bench  # noqa: F401  (registers the envs)
from darwin_bench.tasks.ancestor import AncestorTask

ENV = "darwin_bench/Digits-Synapses-v0"
FAST: dict[str, Any] = {
    "epochs": 1,
    "measure_latency": False,
    "task_kwargs": {"ancestor_epochs": 3},
}


@pytest.fixture(scope="module")
def task() -> AncestorTask:
    return AncestorTask(ancestor_epochs=3, epochs=1)


@pytest.mark.parametrize("layer", ["all", 1])
def test_a_mask_that_empties_a_hidden_layer_is_a_failed_evaluation(layer: Any) -> None:
    env = gym.make(ENV, budget=2, **FAST)
    env.reset(seed=0)
    space: Any = env.unwrapped.search_space  # type: ignore[attr-defined]
    masks = space.masks(space.full())
    if layer == "all":
        masks = [np.zeros_like(m) for m in masks]
    else:
        masks[layer][:] = False  # no neuron of hidden layer 2 has an input
    _, reward, _, truncated, info = env.step(space.flatten(masks))
    assert info["status"] == "failed" and reward == 0.0 and not truncated
    assert info["reason"].startswith("EmptyLayerError: hidden layer")
    assert "params" in info["costs"] and "flops" in info["costs"]  # costed all the same
    _, _, _, _, info = env.step(space.full())
    assert info["status"] == "ok"


def test_trained_weights_survive_a_pickle_by_retraining(task: AncestorTask) -> None:
    genome = task.space.sample(np.random.default_rng(0))
    architecture = task.space.decode(genome)
    trained = task.trained_weights(architecture, 7, {"epochs": 1})
    task.remember(architecture)
    copy = pickle.loads(pickle.dumps(task))
    assert not copy._states  # weights stay behind
    again = copy.trained_weights(architecture, 7, {"epochs": 1})  # re-trained on demand
    assert all(np.array_equal(a, b) for (a, _), (b, _) in zip(trained, again))


def test_init_from_an_unknown_parent_names_the_problem(task: AncestorTask) -> None:
    architecture = task.space.with_init(
        task.space.decode(task.space.full()),
        {"from": "parent", "architecture": "nope", "seed": 0, "epochs": 1},
    )
    with pytest.raises(ValueError, match="parent architecture 'nope' is unknown"):
        task.fit(architecture, seed=0, fidelity={"epochs": 1})


def test_ancestor_metrics_and_weights(task: AncestorTask) -> None:
    metrics = task.ancestor_metrics()
    assert 0.5 < metrics["accuracy"] <= 1.0 and "val_loss" in metrics
    weights = task.ancestor_weights()
    assert [w.shape for w, _ in weights] == [(256, 64), (256, 256), (10, 256)]
    weights[0][0][:] = 0  # a copy: the cached ancestor is untouched
    assert task.ancestor_weights()[0][0].any()
