"""SynapseEnv: which earlier evaluation an offspring inherits its starting weights from."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

import darwin_bench  # noqa: F401  (registers the envs)
from darwin_bench.architecture import Architecture

ENV = "darwin_bench/Digits-Synapses-v0"
FAST: dict[str, Any] = {
    "epochs": 1,
    "measure_latency": False,
    "task_kwargs": {"ancestor_epochs": 3},
}


def _init(info: dict[str, Any]) -> dict[str, Any]:
    return dict(info["architecture"]["extra"]["init"])


def _hash(info: dict[str, Any]) -> str:
    return Architecture.from_dict(info["architecture"]).hash


def test_an_offspring_equal_to_its_parent_inherits_from_that_parent() -> None:
    env = gym.make(ENV, budget=4, **FAST)
    env.reset(seed=0)
    space: Any = env.unwrapped.search_space  # type: ignore[attr-defined]
    grandparent = space.full()
    grandparent[:1000] = 0
    _, _, _, _, first = env.step(grandparent)
    parent = grandparent.copy()
    parent[1000:2000] = 0
    _, _, _, _, second = env.step(parent)
    assert _init(second)["architecture"] == _hash(first)
    _, _, _, _, third = env.step(parent.copy())  # keeps every synapse of its parent
    assert _init(third)["from"] == "parent"
    assert _init(third)["architecture"] == _hash(second)  # the parent, not the grandparent
    child = parent.copy()
    child[2000:2100] = 0
    _, _, _, _, fourth = env.step(child)
    assert _init(fourth)["architecture"] == _hash(third)  # the latest of the equal masks


def test_failed_evaluations_are_never_parents() -> None:
    env = gym.make(ENV, budget=2, **FAST)
    env.reset(seed=0)
    space: Any = env.unwrapped.search_space  # type: ignore[attr-defined]
    masks = space.masks(space.full())
    masks[1][:] = False
    _, _, _, _, failed = env.step(space.flatten(masks))
    assert failed["status"] == "failed"
    masks[0][:] = False  # a subset of the failed mask
    _, _, _, _, info = env.step(space.flatten(masks))
    assert _init(info) == {"from": "ancestor"}
