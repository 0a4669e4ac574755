"""Every registered env gets the checkers and a seeded determinism rollout (Minigrid style).

A new env is tested by being registered in ``envs.registration.ENVS`` with ``test_kwargs``
that make it fast.
"""

from __future__ import annotations

import pickle
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from envs.registration import ENVS, EnvEntry

ENTRIES = [pytest.param(e, id=e.id) for e in ENVS]


def make(entry: EnvEntry, **overrides: object) -> gym.Env:
    return gym.make(entry.id, **{**entry.test_kwargs, "budget": 6, **overrides})


def rollout(env: gym.Env, seed: int, steps: int) -> list[float]:
    """Seeded actions: masked choices for builder-like envs, space samples otherwise."""
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    unwrapped = env.unwrapped
    rewards: list[float] = []
    for _ in range(steps):
        if hasattr(unwrapped, "action_masks"):
            done = False
            while not done:
                valid = np.flatnonzero(unwrapped.action_masks())
                _, reward, done, _, _ = env.step(int(rng.choice(valid)))
            env.reset()
        else:
            _, reward, _, _, _ = env.step(unwrapped.search_space.sample(rng))
        rewards.append(float(reward))
    return rewards


@pytest.mark.parametrize("entry", ENTRIES)
def test_gymnasium_check_env(entry: EnvEntry) -> None:
    env = make(entry)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # checker warnings are failures here
        check_env(env.unwrapped, skip_render_check=True)


@pytest.mark.parametrize("entry", ENTRIES)
def test_same_seed_same_actions_same_rewards(entry: EnvEntry) -> None:
    first = rollout(make(entry), seed=7, steps=2)
    second = rollout(make(entry), seed=7, steps=2)
    assert first == second
    assert all(np.isfinite(first))


@pytest.mark.parametrize("entry", ENTRIES)
def test_info_contract(entry: EnvEntry) -> None:
    env = make(entry)
    env.reset(seed=0)
    unwrapped = env.unwrapped
    rng = np.random.default_rng(0)
    info: dict = {}
    if hasattr(unwrapped, "action_masks"):
        done = False
        while not done:
            _, _, done, _, info = env.step(
                int(rng.choice(np.flatnonzero(unwrapped.action_masks())))
            )
    else:
        _, _, _, _, info = env.step(unwrapped.search_space.sample(rng))
    assert {"metrics", "costs", "architecture", "evaluation_id", "budget_used"} <= set(info)
    assert {"params", "synapses", "flops", "latency_ms"} <= set(info["costs"])
    assert info["budget_used"] == 1
    import json

    json.dumps(info["architecture"])  # JSON-serializable
    assert info["status"] in ("ok", "failed")


@pytest.mark.parametrize("entry", ENTRIES)
def test_pickle_round_trip(entry: EnvEntry) -> None:
    env = make(entry).unwrapped
    clone = pickle.loads(pickle.dumps(env))
    assert clone.action_space == env.action_space
    assert clone.observation_space == env.observation_space


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.values[0].form == "builder"])
def test_sb3_check_env_on_builder(entry: EnvEntry) -> None:
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    sb3_check_env(make(entry).unwrapped, warn=True)
