"""Training an architecture's policy network with stable-baselines3 PPO.

The architecture is the *policy network*: observation -> action logits (Discrete) or action
means (Box). Its body (every module but the output layer) becomes SB3's features extractor;
``net_arch`` is empty, so SB3's ``action_net`` plays the architecture's output layer. The critic
gets its own copy of the body (``share_features_extractor=False``) and a linear value head.
After training, :func:`export_policy` copies the trained weights into a freshly built
``build_model(architecture)``: the module that is scored and costed is exactly the network the
architecture describes.

This module imports stable-baselines3; :mod:`darwin_bench.tasks.control` imports it lazily.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from darwin_bench.architecture import Architecture
from darwin_bench.models import build_model
from darwin_bench.sb3 import silence_logger


def split_policy(architecture: Architecture) -> tuple[nn.Sequential, nn.Linear]:
    """Build ``architecture`` and return ``(body, output layer)``.

    Raises:
        ValueError: when the built network is not a sequential stack ending in a linear layer.
    """
    model = build_model(architecture)
    if not isinstance(model, nn.Sequential) or not isinstance(model[-1], nn.Linear):
        raise ValueError(
            "a control policy architecture must build to a sequential stack ending in a dense "
            f"output layer; space {architecture.space!r} gives {type(model).__name__}"
        )
    return nn.Sequential(*list(model)[:-1]), model[-1]


class ArchitectureExtractor(BaseFeaturesExtractor):
    """SB3 features extractor: the body of an architecture (all layers but the output).

    Args:
        observation_space: the env's observation space.
        architecture: the policy architecture, as :meth:`Architecture.to_dict` data.
    """

    def __init__(self, observation_space: gym.Space, architecture: dict[str, Any]) -> None:
        body, head = split_policy(Architecture.from_dict(architecture))
        super().__init__(observation_space, features_dim=head.in_features)
        self.body = body

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        return self.body(observations)


def train_ppo(
    env_id: str,
    architecture: Architecture,
    *,
    timesteps: int,
    seed: int,
    hyperparameters: dict[str, Any],
    n_envs: int,
    env_kwargs: dict[str, Any] | None = None,
) -> PPO:
    """Train a PPO agent whose policy network is ``architecture`` for ``timesteps`` steps.

    The caller pins torch's threads and seeds (see :func:`darwin_bench.seeding.torch_determinism`);
    SB3 seeds python, numpy, torch and the ``n_envs`` training envs (``seed + i``) from ``seed``.
    """
    venv = make_vec_env(env_id, n_envs=n_envs, seed=seed, env_kwargs=env_kwargs)
    policy_kwargs = {
        "features_extractor_class": ArchitectureExtractor,
        "features_extractor_kwargs": {"architecture": architecture.to_dict()},
        "share_features_extractor": False,
        "net_arch": [],
    }
    model = PPO(
        "MlpPolicy",
        venv,
        policy_kwargs=policy_kwargs,
        seed=seed,
        device="cpu",
        verbose=0,
        **hyperparameters,
    )
    silence_logger(model)  # else every network trained makes an SB3-<date> folder in $TMPDIR
    model.learn(total_timesteps=timesteps)
    venv.close()
    return model


def export_policy(model: PPO, architecture: Architecture) -> nn.Module:
    """Return ``build_model(architecture)`` carrying the trained actor's weights (eval mode)."""
    policy = model.policy
    body, head = split_policy(architecture)
    body.load_state_dict(policy.pi_features_extractor.body.state_dict())  # type: ignore[union-attr]
    head.load_state_dict(policy.action_net.state_dict())
    return nn.Sequential(*body, head).eval()
