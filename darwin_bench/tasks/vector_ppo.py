"""A lean PPO on vectorized Gymnasium envs: the control tasks' default trainer.

The algorithm is stable-baselines3's PPO (clipped surrogate, GAE, advantage normalisation per
minibatch, value loss without clipping, Adam with ``eps=1e-5``, global gradient clipping,
truncated episodes bootstrapped with the value of their last observation, orthogonal
initialisation), with the same hyperparameter names
(:class:`~darwin_bench.tasks.ppo_config.PPOConfig`).
What makes it fast: the envs step as one vectorized env (Gymnasium's numpy vector env when the
env id has one, e.g. ``CartPole-v1``, else a synchronous vector env), and nothing but the
rollout, the update and one batched forward pass per step runs in Python.

The actor is ``build_model(architecture)``: its outputs are the logits of a categorical policy
(``Discrete`` actions) or the means of a diagonal Gaussian with a learned, state-independent log
standard deviation (``Box`` actions). The critic is the same architecture with one output.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from darwin_bench.architecture import Architecture
from darwin_bench.models import build_model
from darwin_bench.tasks.base import TrainingDiverged
from darwin_bench.tasks.episodes import make_gym_env, preprocess
from darwin_bench.tasks.ppo_config import PPOConfig


def value_architecture(architecture: Architecture) -> Architecture:
    """``architecture`` with a one-unit output layer (the critic).

    Raises:
        ValueError: when the architecture does not end in a dense layer.
    """
    last = architecture.layers[-1] if architecture.layers else {}
    if last.get("type") != "dense":
        raise ValueError(
            "a control policy architecture must end in a dense output layer; space "
            f"{architecture.space!r} gives {last.get('type')!r}"
        )
    layers = (*architecture.layers[:-1], {**last, "units": 1})
    return Architecture(
        architecture.space,
        architecture.input_shape,
        1,
        layers,
        architecture.connections,
        architecture.extra,
    )


def orthogonal_init(model: nn.Module, output_gain: float) -> nn.Module:
    """Orthogonal weights (gain sqrt(2); ``output_gain`` for the last linear layer), zero biases."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    with torch.no_grad():
        for i, linear in enumerate(linears):
            gain = output_gain if i == len(linears) - 1 else math.sqrt(2)
            nn.init.orthogonal_(linear.weight, gain=gain)
            nn.init.zeros_(linear.bias)
    return model


def training_envs(
    env_id: str, n_envs: int, env_kwargs: Mapping[str, Any] | None
) -> gym.vector.VectorEnv:
    """``n_envs`` copies of ``env_id`` as one vector env (numpy-vectorized where available)."""
    spec = make_gym_env(env_id, env_kwargs).spec  # a ValueError for an unknown id
    mode = "vector_entry_point" if spec is not None and spec.vector_entry_point else "sync"
    return gym.make_vec(env_id, num_envs=n_envs, vectorization_mode=mode, **dict(env_kwargs or {}))


class _Policy(nn.Module):
    """Actor, critic and (for ``Box`` actions) the log standard deviation."""

    def __init__(self, architecture: Architecture, action_space: gym.Space) -> None:
        super().__init__()
        self.actor = orthogonal_init(build_model(architecture), 0.01)
        self.critic = orthogonal_init(build_model(value_architecture(architecture)), 1.0)
        self.box = isinstance(action_space, spaces.Box)
        self.log_std = nn.Parameter(torch.zeros(architecture.num_outputs)) if self.box else None

    def distribution(self, obs: torch.Tensor) -> torch.distributions.Distribution:
        out = self.actor(obs)  # no argument validation: a NaN surfaces as a non-finite loss
        if self.log_std is not None:
            std = self.log_std.exp().expand_as(out)
            normal = torch.distributions.Normal(out, std, validate_args=False)
            return torch.distributions.Independent(normal, 1, validate_args=False)
        return torch.distributions.Categorical(logits=out, validate_args=False)

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        return self.critic(obs).squeeze(-1)


def _schedule(value: float, kind: str, progress_remaining: float) -> float:
    return value * progress_remaining if kind == "linear" else value


def _advantages(
    rewards: torch.Tensor,
    values: torch.Tensor,
    next_values: torch.Tensor,
    dones: torch.Tensor,
    gamma: float,
    lam: float,
) -> torch.Tensor:
    """Generalized advantage estimates over ``(steps, envs)`` tensors."""
    advantages = torch.zeros_like(rewards)
    last = torch.zeros(rewards.shape[1])
    for t in reversed(range(rewards.shape[0])):
        keep = 1.0 - dones[t]
        delta = rewards[t] + gamma * next_values[t] * keep - values[t]
        last = delta + gamma * lam * keep * last
        advantages[t] = last
    return advantages


def train_vector_ppo(
    env_id: str,
    architecture: Architecture,
    *,
    timesteps: int,
    seed: int,
    config: PPOConfig,
    env_kwargs: Mapping[str, Any] | None = None,
) -> nn.Module:
    """Train the policy ``architecture`` with PPO for ``timesteps`` env steps; return the actor
    (``build_model(architecture)`` with the trained weights, eval mode).

    The caller seeds torch and pins its threads
    (:func:`darwin_bench.seeding.torch_determinism`); the vector env is reset with ``seed``.

    Raises:
        TrainingDiverged: when a loss becomes NaN or infinite.
    """
    envs = training_envs(env_id, config.n_envs, env_kwargs)
    try:
        policy = _Policy(architecture, envs.single_action_space)
        optimizer = torch.optim.Adam(
            policy.parameters(), lr=config.learning_rate, eps=1e-5, foreach=True
        )
        rollout = config.n_envs * config.n_steps
        updates = -(-timesteps // rollout)
        obs, _ = envs.reset(seed=int(seed))
        prev_done = np.zeros(config.n_envs, dtype=bool)
        for update in range(updates):
            remaining = 1.0 - update / updates
            for group in optimizer.param_groups:
                group["lr"] = _schedule(config.learning_rate, config.lr_schedule, remaining)
            batch, obs, prev_done = _collect(envs, policy, obs, prev_done, config)
            clip = _schedule(config.clip_range, config.clip_schedule, remaining)
            _update(policy, optimizer, batch, clip, config)
    finally:
        envs.close()
    return policy.actor.eval()


def _collect(
    envs: gym.vector.VectorEnv,
    policy: _Policy,
    obs: Any,
    prev_done: np.ndarray,
    config: PPOConfig,
) -> tuple[dict[str, torch.Tensor], Any, np.ndarray]:
    """One rollout of ``n_steps`` per env; returns the valid transitions with their advantages
    and returns. With next-step autoreset, the step after an episode's end only resets that env:
    it is no transition (not ``valid``), and its value is the ended episode's last value."""
    space = envs.single_action_space
    steps: dict[str, list[Any]] = {k: [] for k in ("obs", "act", "logp", "value", "valid")}
    rewards, terminated, truncated = [], [], []
    for _ in range(config.n_steps):
        obs_t = preprocess(envs.single_observation_space, obs)
        with torch.no_grad():
            dist = policy.distribution(obs_t)
            action = dist.sample()
            steps["logp"].append(dist.log_prob(action))
            steps["value"].append(policy.value(obs_t))
        env_action = action.numpy()
        if isinstance(space, spaces.Box):
            env_action = np.clip(env_action, space.low, space.high).astype(space.dtype)
        elif isinstance(space, spaces.Discrete):
            env_action = env_action + int(space.start)
        obs, reward, term, trunc, _ = envs.step(env_action)
        steps["obs"].append(obs_t)
        steps["act"].append(action)
        steps["valid"].append(torch.as_tensor(~prev_done))
        rewards.append(torch.as_tensor(reward, dtype=torch.float32))
        terminated.append(torch.as_tensor(term, dtype=torch.float32))
        truncated.append(torch.as_tensor(trunc & ~term, dtype=torch.float32))
        prev_done = term | trunc
    with torch.no_grad():
        last_value = policy.value(preprocess(envs.single_observation_space, obs))
    values = torch.stack(steps["value"])
    next_values = torch.cat([values[1:], last_value[None]])
    reward = torch.stack(rewards) + config.gamma * next_values * torch.stack(truncated)
    dones = torch.clamp(torch.stack(terminated) + torch.stack(truncated), max=1.0)
    adv = _advantages(reward, values, next_values, dones, config.gamma, config.gae_lambda)
    valid = torch.stack(steps["valid"]).flatten()
    batch = {
        "obs": torch.stack(steps["obs"]).flatten(0, 1)[valid],
        "act": torch.stack(steps["act"]).flatten(0, 1)[valid],
        "logp": torch.stack(steps["logp"]).flatten()[valid],
        "adv": adv.flatten()[valid],
        "ret": (adv + values).flatten()[valid],
    }
    return batch, obs, prev_done


def _update(
    policy: _Policy,
    optimizer: torch.optim.Optimizer,
    batch: dict[str, torch.Tensor],
    clip: float,
    config: PPOConfig,
) -> None:
    """``n_epochs`` passes of minibatch updates over the rollout."""
    n = batch["obs"].shape[0]
    for _ in range(config.n_epochs):
        order = torch.randperm(n)
        for start in range(0, n, config.batch_size):
            idx = order[start : start + config.batch_size]
            dist = policy.distribution(batch["obs"][idx])
            logp = dist.log_prob(batch["act"][idx])
            adv = batch["adv"][idx]
            if idx.numel() > 1:
                adv = (adv - adv.mean()) / (adv.std() + 1e-8)
            ratio = torch.exp(logp - batch["logp"][idx])
            policy_loss = -torch.min(adv * ratio, adv * ratio.clamp(1 - clip, 1 + clip)).mean()
            value_loss = nn.functional.mse_loss(policy.value(batch["obs"][idx]), batch["ret"][idx])
            loss = policy_loss + config.vf_coef * value_loss
            if config.ent_coef:
                loss = loss - config.ent_coef * dist.entropy().mean()
            if not torch.isfinite(loss):
                raise TrainingDiverged(f"PPO loss became {float(loss)}")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(policy.parameters(), config.max_grad_norm)
            optimizer.step()
