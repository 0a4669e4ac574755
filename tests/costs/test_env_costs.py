"""Every registered env can use every cost on every device (tiny budgets and epochs)."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

from darwin_bench.costs import COSTS, DEVICE_COSTS, DEVICES, MEASURED_COSTS
from envs.registration import ENVS, EnvEntry

ENTRIES = [pytest.param(e, id=e.id) for e in ENVS]
EXACT = [c for c in COSTS if c not in MEASURED_COSTS]
MODELED = [f"{c}@{d}" for d in DEVICES for c in DEVICE_COSTS]


def step_once(env: gym.Env) -> tuple[float, dict]:
    env.reset(seed=0)
    unwrapped = env.unwrapped
    rng = np.random.default_rng(0)
    if hasattr(unwrapped, "action_masks"):
        done, reward, info = False, 0.0, {}
        while not done:
            valid = np.flatnonzero(unwrapped.action_masks())
            _, reward, done, _, info = env.step(int(rng.choice(valid)))
        return float(reward), info
    _, reward, _, _, info = env.step(unwrapped.search_space.sample(rng))
    return float(reward), info


@pytest.mark.parametrize("entry", ENTRIES)
def test_every_cost_on_every_device(entry: EnvEntry) -> None:
    """One step whose multi-objective reward uses every exact and every modeled cost."""
    first, *rest = MODELED + EXACT
    env = gym.make(
        entry.id,
        **{**entry.test_kwargs, "budget": 2},
        reward="multi",
        cost=first,
        costs=rest,
        measure_latency=False,
    )
    reward, info = step_once(env)
    assert math.isfinite(reward)
    assert set(MODELED + EXACT) <= set(info["objectives"])
    assert all(info["cost_kinds"][c] == "modeled" for c in MODELED)
    assert all(info["cost_kinds"][c] == "exact" for c in EXACT)
    assert all(info["costs"][c] > 0 for c in MODELED)


@pytest.mark.parametrize("device", sorted(DEVICES))
@pytest.mark.parametrize("entry", ENTRIES)
def test_cost_at_device_as_env_kwarg(entry: EnvEntry, device: str) -> None:
    for cost in DEVICE_COSTS:
        env = gym.make(
            entry.id,
            **{**entry.test_kwargs, "budget": 1},
            cost=f"{cost}@{device}",
            measure_latency=False,
        )
        core = env.unwrapped.core
        assert core.reward.to_dict()["modeled"] is True
        assert core.reward.target > 0


def test_unknown_cost_or_device_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="device must be one of .*'edge-tpu'"):
        gym.make("darwin_bench/Digits-MLP-v0", cost="latency_ms@tpu-v9")
    with pytest.raises(ValueError, match="cost must be one of .*'clusters'"):
        gym.make("darwin_bench/Digits-MLP-v0", cost="watts")
    with pytest.raises(ValueError, match="targets \\['flops'\\] are not in costs"):
        gym.make("darwin_bench/Digits-MLP-v0", costs=["synapses"], targets={"flops": 1.0})


def test_batch64_latency_is_measured_when_asked() -> None:
    env = gym.make(
        "darwin_bench/Digits-MLP-v0",
        cost="latency_ms_b64",
        target=1.0,
        budget=1,
        epochs=1,
        latency_repeats=3,
    )
    _, info = step_once(env)
    assert info["costs"]["latency_ms_b64"] > 0
    assert info["cost_kinds"]["latency_ms_b64"] == "measured"
    assert info["costs"]["latency_ms_b64_q1"] <= info["costs"]["latency_ms_b64_q3"]


def test_eager_latency_is_measured_beside_onnx_runtime_when_named() -> None:
    env = gym.make(
        "darwin_bench/Digits-MLP-v0",
        reward="multi",
        costs=["latency_ms_eager"],
        targets={"latency_ms_eager": 0.05},
        budget=1,
        epochs=1,
        latency_repeats=3,
    )
    _, info = step_once(env)
    costs, kinds = info["costs"], info["cost_kinds"]
    assert costs["latency_ms"] > 0 and costs["latency_ms_eager"] > 0
    assert kinds["latency_ms"] == kinds["latency_ms_eager"] == "measured"
    engines = env.unwrapped.core.describe()["costs"]["latency_engines"]
    assert engines["latency_ms"]["engine"] == "onnxruntime"
    assert engines["latency_ms_eager"]["engine"] == "torch-eager"
    assert engines["latency_ms"]["threads"] == engines["latency_ms_eager"]["threads"] == 1


def test_eager_latency_alone_needs_no_onnx_runtime() -> None:
    env = gym.make(
        "darwin_bench/Digits-MLP-v0",
        cost="latency_ms_eager",
        target=0.05,
        measure_latency=False,
        budget=1,
        epochs=1,
        latency_repeats=3,
    )
    _, info = step_once(env)
    assert "latency_ms" not in info["costs"] and info["costs"]["latency_ms_eager"] > 0
    assert list(env.unwrapped.core.describe()["costs"]["latency_engines"]) == ["latency_ms_eager"]


def test_deployed_latency_needs_measure_latency() -> None:
    with pytest.raises(
        ValueError, match="measure_latency must be True when cost is 'latency_ms_b64'"
    ):
        gym.make(
            "darwin_bench/Digits-MLP-v0", cost="latency_ms_b64", target=1.0, measure_latency=False
        )
