"""A lean PPO on vectorized Gymnasium envs: the control tasks' default trainer.

The algorithm is stable-baselines3's PPO (clipped surrogate, GAE, advantage normalisation per
minibatch, value loss without clipping, Adam with ``eps=1e-5``, global gradient clipping,
truncated episodes bootstrapped with the value of their last observation, orthogonal
initialisation), with the same hyperparameter names
(:class:`~darwin_bench.tasks.ppo_config.PPOConfig`).
Policies act in eval mode (no dropout) and are updated in train mode, as in SB3.
What makes it fast: the envs step as one vectorized env (Gymnasium's numpy vector env when the
env id has one, e.g. ``CartPole-v1``, else a synchronous vector env), and nothing but the
rollout, the update and one batched forward pass per step runs in Python; a policy that is a
chain of dense layers with ``Discrete`` actions (every ``mlp``-space policy on CartPole) is
trained by :class:`~darwin_bench.tasks.dense_ppo.DenseActorCritic`, with hand-written
gradients on one flat parameter tensor, others by autograd and ``torch.optim.Adam``. When one
minibatch holds the whole rollout (CartPole's settings), it is not shuffled.

The actor is ``build_model(architecture)``: its outputs are the logits of a categorical policy
(``Discrete`` actions) or the means of a diagonal Gaussian with a learned, state-independent log
standard deviation (``Box`` actions). The critic is the same architecture with one output.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from darwin_bench.architecture import Architecture
from darwin_bench.models import build_model
from darwin_bench.tasks.base import TrainingDiverged
from darwin_bench.tasks.dense_ppo import DenseActorCritic, dense_chain
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
    """Actor, critic and (for ``Box`` actions) the log standard deviation, trained by autograd
    and ``torch.optim.Adam``: the general path (:class:`DenseActorCritic` is the fast one)."""

    def __init__(self, actor: nn.Module, critic: nn.Module, action_space: gym.Space) -> None:
        super().__init__()
        self.actor, self.critic = actor, critic
        self.box = isinstance(action_space, spaces.Box)
        shape = action_space.shape if self.box else None
        self.log_std = nn.Parameter(torch.zeros(shape[0])) if shape else None
        self.optimizer: torch.optim.Optimizer | None = None
        self.config = PPOConfig()

    def distribution(self, obs: torch.Tensor) -> torch.distributions.Distribution:
        out = self.actor(obs)  # no argument validation: a NaN surfaces as a non-finite loss
        if self.log_std is not None:
            std = self.log_std.exp().expand_as(out)
            normal = torch.distributions.Normal(out, std, validate_args=False)
            return torch.distributions.Independent(normal, 1, validate_args=False)
        return torch.distributions.Categorical(logits=out, validate_args=False)

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        return self.critic(obs).squeeze(-1)

    def act(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Sampled actions, their log-probabilities and the values of a batch (eval mode: no
        dropout while acting, as in stable-baselines3)."""
        self.eval()
        dist = self.distribution(obs)
        action = dist.sample()
        return action, dist.log_prob(action), self.value(obs)

    def step(
        self,
        obs: torch.Tensor,
        act: torch.Tensor,
        old_logp: torch.Tensor,
        adv: torch.Tensor,
        ret: torch.Tensor,
        clip: float,
        lr: float,
    ) -> None:
        """One PPO minibatch step (autograd, global norm clipping, Adam)."""
        config = self.config
        self.train()
        if self.optimizer is None:
            self.optimizer = torch.optim.Adam(self.parameters(), lr=lr, eps=1e-5, foreach=True)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        dist = self.distribution(obs)
        ratio = torch.exp(dist.log_prob(act) - old_logp)
        policy_loss = -torch.min(adv * ratio, adv * ratio.clamp(1 - clip, 1 + clip)).mean()
        value_loss = nn.functional.mse_loss(self.value(obs), ret)
        loss = policy_loss + config.vf_coef * value_loss
        if config.ent_coef:
            loss = loss - config.ent_coef * dist.entropy().mean()
        if not torch.isfinite(loss):
            raise TrainingDiverged(f"PPO loss became {float(loss)}")
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(self.parameters(), config.max_grad_norm)
        self.optimizer.step()

    def export(self) -> nn.Module:
        """The trained actor (eval mode)."""
        return self.actor.eval()


def make_policy(
    architecture: Architecture, action_space: gym.Space, config: PPOConfig
) -> _Policy | DenseActorCritic:
    """Actor and critic for ``architecture`` (orthogonal initialisation): the hand-written fast
    path for chains of dense layers with ``Discrete`` actions, else the autograd one."""
    actor = orthogonal_init(build_model(architecture), 0.01)
    critic = orthogonal_init(build_model(value_architecture(architecture)), 1.0)
    chain = dense_chain(architecture)
    if chain is not None and isinstance(action_space, spaces.Discrete):
        return DenseActorCritic(actor, critic, chain, config)
    policy = _Policy(actor, critic, action_space)
    policy.config = config
    return policy


def _schedule(value: float, kind: str, progress_remaining: float) -> float:
    return value * progress_remaining if kind == "linear" else value


def _advantages(
    rewards: np.ndarray,
    values: np.ndarray,
    next_values: np.ndarray,
    dones: np.ndarray,
    gamma: float,
    lam: float,
) -> np.ndarray:
    """Generalized advantage estimates over ``(steps, envs)`` float32 arrays."""
    advantages = np.zeros_like(rewards)
    last = np.zeros(rewards.shape[1], dtype=rewards.dtype)
    keep = 1.0 - dones
    delta = rewards + gamma * next_values * keep - values
    for t in reversed(range(rewards.shape[0])):
        last = delta[t] + (gamma * lam) * keep[t] * last
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
        policy = make_policy(architecture, envs.single_action_space, config)
        rollout = config.n_envs * config.n_steps
        updates = -(-timesteps // rollout)
        obs, _ = envs.reset(seed=int(seed))
        prev_done = np.zeros(config.n_envs, dtype=bool)
        for update in range(updates):
            remaining = 1.0 - update / updates
            batch, obs, prev_done = _collect(envs, policy, obs, prev_done, config)
            lr = _schedule(config.learning_rate, config.lr_schedule, remaining)
            clip = _schedule(config.clip_range, config.clip_schedule, remaining)
            _update(policy, batch, clip, lr, config)
    finally:
        envs.close()
    return policy.export()


def _collect(
    envs: gym.vector.VectorEnv,
    policy: _Policy | DenseActorCritic,
    obs: Any,
    prev_done: np.ndarray,
    config: PPOConfig,
) -> tuple[dict[str, torch.Tensor], Any, np.ndarray]:
    """One rollout of ``n_steps`` per env; returns the valid transitions with their advantages
    and returns. With next-step autoreset, the step after an episode's end only resets that env:
    it is no transition (not ``valid``), and its value is the ended episode's last value."""
    space, obs_space = envs.single_action_space, envs.single_observation_space
    shape = (config.n_steps, config.n_envs)
    rewards, values = np.zeros(shape, np.float32), np.zeros(shape, np.float32)
    terminated, truncated, valid = (np.zeros(shape, bool) for _ in range(3))
    steps: dict[str, list[torch.Tensor]] = {"obs": [], "act": [], "logp": []}
    for t in range(config.n_steps):
        obs_t = preprocess(obs_space, obs)
        with torch.no_grad():
            action, logp, value = policy.act(obs_t)
        env_action = action.numpy()
        if isinstance(space, spaces.Box):
            env_action = np.clip(env_action, space.low, space.high).astype(space.dtype)
        elif isinstance(space, spaces.Discrete):
            env_action = env_action + int(space.start)
        obs, rewards[t], terminated[t], trunc, _ = envs.step(env_action)
        truncated[t] = trunc & ~terminated[t]
        valid[t] = ~prev_done
        prev_done = terminated[t] | trunc
        values[t] = value.numpy()
        steps["obs"].append(obs_t)
        steps["act"].append(action)
        steps["logp"].append(logp)
    with torch.no_grad():
        last_value = policy.value(preprocess(obs_space, obs)).numpy()
    next_values = np.concatenate([values[1:], last_value[None]])
    reward = rewards + config.gamma * next_values * truncated
    dones = (terminated | truncated).astype(np.float32)
    adv = _advantages(reward, values, next_values, dones, config.gamma, config.gae_lambda)
    keep = torch.from_numpy(valid.reshape(-1))
    batch = {
        "obs": torch.stack(steps["obs"]).flatten(0, 1)[keep],
        "act": torch.stack(steps["act"]).flatten(0, 1)[keep],
        "logp": torch.stack(steps["logp"]).flatten()[keep],
        "adv": torch.from_numpy(adv.reshape(-1))[keep],
        "ret": torch.from_numpy((adv + values).reshape(-1))[keep],
    }
    return batch, obs, prev_done


def _normalized(adv: torch.Tensor) -> torch.Tensor:
    """Advantages normalised over a minibatch (unchanged for a single one)."""
    return (adv - adv.mean()) / (adv.std() + 1e-8) if adv.numel() > 1 else adv


def _minibatches(
    batch: dict[str, torch.Tensor], config: PPOConfig
) -> Iterator[tuple[torch.Tensor, ...]]:
    """Per epoch, the rollout in a fresh random order, cut into minibatches of ``(obs, act,
    logp, adv, ret)``. Flat observations with one integer action per step are gathered as one
    packed tensor, once per epoch (the same rows, exactly, as gathering each field)."""
    n, size = batch["obs"].shape[0], config.batch_size
    fields = ("obs", "act", "logp", "adv", "ret")
    packed = None
    if batch["obs"].dim() == 2 and batch["act"].dim() == 1:
        d = batch["obs"].shape[1]
        columns = [batch["act"].to(batch["obs"].dtype), batch["logp"], batch["adv"], batch["ret"]]
        packed = torch.cat([batch["obs"], torch.stack(columns, 1)], 1)
    for _ in range(config.n_epochs):
        order = torch.randperm(n)
        if packed is None:
            for start in range(0, n, size):
                idx = order[start : start + size]
                yield tuple(batch[k][idx] for k in fields)
            continue
        rows = packed[order]
        for start in range(0, n, size):
            mb = rows[start : start + size]
            yield mb[:, :d], mb[:, d].long(), mb[:, d + 1], mb[:, d + 2], mb[:, d + 3]


def _update(
    policy: _Policy | DenseActorCritic,
    batch: dict[str, torch.Tensor],
    clip: float,
    lr: float,
    config: PPOConfig,
) -> None:
    """``n_epochs`` passes of minibatch updates over the rollout. When one minibatch holds the
    whole rollout, its order does not matter (the losses are means): no shuffling, and the
    advantages are normalised once."""
    if batch["obs"].shape[0] <= config.batch_size:
        adv = _normalized(batch["adv"])
        for _ in range(config.n_epochs):
            policy.step(batch["obs"], batch["act"], batch["logp"], adv, batch["ret"], clip, lr)
        return
    for obs, act, logp, adv, ret in _minibatches(batch, config):
        policy.step(obs, act, logp, _normalized(adv), ret, clip, lr)
