"""Running a policy network on Gymnasium episodes: action choice and seeded evaluation episodes.

:func:`episode_returns` plays one deterministic episode per seed, all seeds at once (a
synchronous vector env of ordinary envs, one batched forward pass per step); each episode is
exactly the one ``env.reset(seed=s)`` then stepping until it ends would give.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from torch import nn


def make_gym_env(env_id: str, env_kwargs: Mapping[str, Any] | None = None) -> gym.Env:
    """``gymnasium.make`` with a ``ValueError`` for an id Gymnasium does not know.

    Raises:
        ValueError: naming the id (Gymnasium's own suggestion included) and how to list ids.
    """
    if not isinstance(env_id, str) or not env_id:
        raise ValueError(f"env_id must be a Gymnasium env id such as 'CartPole-v1'; got {env_id!r}")
    try:
        return gym.make(env_id, **dict(env_kwargs or {}))
    except gym.error.Error as exc:
        raise ValueError(
            f"env_id {env_id!r} is not an env Gymnasium can make ({exc}); "
            "see gymnasium.pprint_registry() for the known ids"
        ) from None


def preprocess(space: gym.Space, obs: Any) -> torch.Tensor:
    """A batch of observations as floats, preprocessed as SB3 does: one-hot for Discrete,
    scaled to [0, 1] for images (3-D ``uint8`` boxes)."""
    array = np.asarray(obs)
    if isinstance(space, spaces.Discrete):
        return nn.functional.one_hot(
            torch.as_tensor(array - space.start, dtype=torch.long), int(space.n)
        ).float()
    tensor = torch.as_tensor(array, dtype=torch.float32)
    if isinstance(space, spaces.Box) and space.dtype == np.uint8 and len(space.shape) == 3:
        return tensor / 255.0
    return tensor


def greedy_actions(space: gym.Space, outputs: torch.Tensor) -> np.ndarray:
    """The deterministic actions of a batch of policy outputs: argmax (Discrete) or the mean
    clipped to the bounds (Box)."""
    if isinstance(space, spaces.Discrete):
        return outputs.argmax(dim=1).numpy() + int(space.start)
    assert isinstance(space, spaces.Box)
    return np.clip(outputs.numpy(), space.low, space.high).astype(space.dtype)


def episode_returns(
    env_id: str,
    env_kwargs: Mapping[str, Any] | None,
    seeds: Sequence[int],
    policy: nn.Module | None,
) -> list[float]:
    """The return of one episode per seed: ``policy`` acting greedily, or (``None``) uniformly
    random actions from the action space seeded with the episode's seed."""
    fns: list[Callable[[], gym.Env]] = [lambda: make_gym_env(env_id, env_kwargs) for _ in seeds]
    envs = gym.vector.SyncVectorEnv(fns, copy=False)
    try:
        single_obs, single_act = envs.single_observation_space, envs.single_action_space
        obs, _ = envs.reset(seed=[int(s) for s in seeds])
        samplers = [copy.deepcopy(single_act) for _ in seeds] if policy is None else []
        for sampler, seed in zip(samplers, seeds):
            sampler.seed(int(seed))
        totals = np.zeros(len(seeds))
        running = np.ones(len(seeds), dtype=bool)
        while running.any():
            if policy is None:
                actions = np.stack([s.sample() for s in samplers])
            else:
                with torch.inference_mode():
                    actions = greedy_actions(single_act, policy(preprocess(single_obs, obs)))
            obs, reward, terminated, truncated, _ = envs.step(actions)
            totals += np.where(running, reward, 0.0)
            running &= ~(terminated | truncated)
    finally:
        envs.close()
    return [float(t) for t in totals]
