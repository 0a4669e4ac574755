"""`ControlTask`: any Gymnasium env id; policy networks trained by PPO, scored by mean return.

A proposed architecture is the policy network (observation -> action logits for a ``Discrete``
action space, action means for a ``Box`` one). It is trained with PPO for ``timesteps``
environment steps (the fidelity): by default with :mod:`darwin_bench.tasks.vector_ppo` (the same
algorithm as stable-baselines3's PPO, on vectorized envs), or with stable-baselines3 itself
(``trainer="sb3"``). Then it runs deterministically (argmax / the mean, clipped to the action
bounds) for one episode on each of two fixed, disjoint lists of seeds: the **validation**
episodes, which the search sees, and the held-out **test** episodes, which only reports see.

Metrics: ``mean_return`` and ``std_return`` over the validation episodes, and
``normalized_return`` = ``(mean_return - low) / (high - low)`` clipped to [0, 1] (the
search-facing score); ``test_mean_return``, ``test_std_return`` and ``test_normalized_return``
the same over the test episodes (``TaskResult.test_metrics``). ``(low, high)`` is the env's
return range: known for classic-control envs, given by ``return_range``, or else (random-policy
return, ``spec.reward_threshold``). An env with neither is scored by its raw mean return, whose
range is unknown (``score_range`` is None): envs then refuse the rewards that need one unless
given ``score_range`` (see :mod:`darwin_bench.rewards`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import cached_property
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from darwin_bench.architecture import Architecture
from darwin_bench.hashing import data_hash
from darwin_bench.models import build_model
from darwin_bench.tasks.base import Task, TaskResult, TrainingDiverged
from darwin_bench.tasks.episodes import episode_returns, make_gym_env, preprocess
from darwin_bench.tasks.ppo_config import TUNED_PPO, TUNED_TIMESTEPS, PPOConfig
from darwin_bench.validation import check_choice, check_positive_int

__all__ = ["TUNED_PPO", "ControlTask", "PPOConfig", "make_gym_env"]

#: First validation seed, far from the training envs' seeds (``seed + i``).
EVAL_SEED_BASE = 1_000_000

#: First test seed: the held-out episodes never overlap the validation ones.
TEST_SEED_BASE = 2_000_000

#: The trainers of a control task.
TRAINERS = ("ppo", "sb3")

#: Return ranges (worst, best) of an episode, for envs whose range is known.
KNOWN_RETURN_RANGES: dict[str, tuple[float, float]] = {
    "CartPole-v0": (0.0, 200.0),
    "CartPole-v1": (0.0, 500.0),
    "Acrobot-v1": (-500.0, 0.0),
    "MountainCar-v0": (-200.0, 0.0),
}


def observation_shape(space: gym.Space) -> tuple[int, ...]:
    """Shape of one (SB3-preprocessed) observation: a ``Box``'s shape, or one-hot for Discrete.

    Raises:
        ValueError: for an observation space other than ``Box`` or ``Discrete``.
    """
    if isinstance(space, spaces.Box):
        return tuple(int(d) for d in space.shape)
    if isinstance(space, spaces.Discrete):
        return (int(space.n),)
    raise ValueError(
        f"observation space must be Box or Discrete for a control task; got {type(space).__name__}"
    )


def action_size(space: gym.Space) -> int:
    """Outputs of the policy network: action count (Discrete) or action dimension (Box).

    Raises:
        ValueError: for an action space other than ``Discrete`` or a 1-D ``Box``.
    """
    if isinstance(space, spaces.Discrete):
        return int(space.n)
    if isinstance(space, spaces.Box) and len(space.shape) == 1:
        return int(space.shape[0])
    raise ValueError(
        "action space must be Discrete or a 1-D Box for a control task; "
        f"got {type(space).__name__}{getattr(space, 'shape', '')}"
    )


def _space_parts(space: gym.Space) -> list[Any]:
    """A ``Box`` or ``Discrete`` space as hashable parts (its bounds as arrays)."""
    if isinstance(space, spaces.Box):
        return ["Box", space.low, space.high]
    if isinstance(space, spaces.Discrete):
        return ["Discrete", int(space.n), int(space.start)]
    raise ValueError(f"cannot hash a {type(space).__name__} space")


class ControlTask(Task):
    """Reinforcement learning on a Gymnasium env: the architecture is the policy network.

    Args:
        env_id: any Gymnasium id with a ``Discrete`` or 1-D ``Box`` action space.
        name: task name (default: the env's name without its version, lower case).
        timesteps: default training budget in env steps (the fidelity ``timesteps``; default
            :data:`TUNED_TIMESTEPS` for ``env_id``, else 20,000).
        ppo: PPO settings (default: :data:`TUNED_PPO` for ``env_id`` or :class:`PPOConfig`).
        trainer: ``"ppo"`` (:mod:`darwin_bench.tasks.vector_ppo`) or ``"sb3"``
            (stable-baselines3's PPO).
        eval_episodes: validation episodes (one per fixed seed); the search sees their returns.
        test_episodes: held-out test episodes (other fixed seeds), reported as test metrics.
        return_range: ``(worst, best)`` episode return used to normalize the score.
        env_kwargs: keyword arguments of ``gymnasium.make``.
        threads: torch threads while training (pinned for determinism).

    Raises:
        ValueError: for an unknown env id, trainer, or an unsupported observation or action
            space.
    """

    metric: ClassVar[str] = "normalized_return"
    higher_is_better: ClassVar[bool] = True

    def __init__(
        self,
        env_id: str = "CartPole-v1",
        *,
        name: str | None = None,
        timesteps: int | None = None,
        ppo: PPOConfig | Mapping[str, Any] | None = None,
        trainer: str = "ppo",
        eval_episodes: int = 10,
        test_episodes: int = 20,
        return_range: Sequence[float] | None = None,
        env_kwargs: Mapping[str, Any] | None = None,
        threads: int = 1,
        default_targets: Mapping[str, float] | None = None,
    ) -> None:
        self.env_id = env_id
        self.env_kwargs = dict(env_kwargs or {})
        self.trainer = check_choice("trainer", trainer, TRAINERS)
        count = check_positive_int("eval_episodes", eval_episodes)
        self.eval_seeds = [EVAL_SEED_BASE + i for i in range(count)]
        count = check_positive_int("test_episodes", test_episodes)
        self.test_seeds = [TEST_SEED_BASE + i for i in range(count)]
        env = make_gym_env(env_id, self.env_kwargs)
        try:
            self.observation_space = env.observation_space
            self.action_space = env.action_space
            self._input_shape = observation_shape(self.observation_space)
            self._num_outputs = action_size(self.action_space)
            first = [env.reset(seed=s)[0] for s in self.eval_seeds]
            self._example = preprocess(self.observation_space, np.stack(first))
            self._reward_threshold = env.spec.reward_threshold if env.spec else None
        finally:
            env.close()
        base = env_id.split("/")[-1].rsplit("-v", 1)[0]
        self.name = name or base.lower()
        steps = TUNED_TIMESTEPS.get(env_id, 20_000) if timesteps is None else timesteps
        self.fidelities = {"timesteps": check_positive_int("timesteps", steps)}
        if isinstance(ppo, PPOConfig):
            self.ppo = ppo
        else:
            allowed = sorted(PPOConfig.__dataclass_fields__)
            unknown = sorted(set(ppo or {}) - set(allowed))
            if unknown:
                raise ValueError(f"ppo key(s) {unknown} unknown; allowed: {allowed}")
            self.ppo = replace(TUNED_PPO.get(env_id, PPOConfig()), **dict(ppo or {}))
        self.threads = check_positive_int("threads", threads)
        self.return_range = self._return_range(return_range)
        self.default_targets = dict(
            default_targets or {"flops": 1e4, "params": 5e3, "synapses": 5e3, "latency_ms": 0.0051}
        )

    # -------------------------------------------------------------- identity
    @property
    def input_shape(self) -> tuple[int, ...]:
        return self._input_shape

    @property
    def num_outputs(self) -> int:
        return self._num_outputs

    @property
    def data_hash(self) -> str:
        """Hash of what defines the problem: env id, its kwargs, spaces, episode seeds."""
        return data_hash(
            self.env_id,
            self.env_kwargs,
            *_space_parts(self.observation_space),
            *_space_parts(self.action_space),
            self.eval_seeds,
            self.test_seeds,
        )

    def config(self) -> dict[str, Any]:
        return {
            "env_id": self.env_id,
            "trainer": self.trainer,
            "ppo": self.ppo.to_dict(),
            "eval_seeds": list(self.eval_seeds),
            "test_seeds": list(self.test_seeds),
            "return_range": list(self.return_range) if self.return_range else None,
            "threads": self.threads,
        }

    @property
    def score_range(self) -> tuple[float, float] | None:
        """``(0, 1)`` for a normalized score; None when the return range is unknown."""
        return (0.0, 1.0) if self.return_range else None

    @property
    def worst_score(self) -> float:
        """0 for a normalized score; otherwise the random policy's mean return."""
        return 0.0 if self.return_range else self.random_return

    @cached_property
    def random_return(self) -> float:
        """Mean return of the uniformly random policy on the validation episodes."""
        return float(np.mean(self.episode_returns(None)))

    def _return_range(self, given: Sequence[float] | None) -> tuple[float, float] | None:
        if given is not None:
            low, high = (float(v) for v in given)
            if not (np.isfinite(low) and np.isfinite(high) and low < high):
                raise ValueError(f"return_range must be (low, high) with low < high; got {given!r}")
            return low, high
        if self.env_id in KNOWN_RETURN_RANGES:
            return KNOWN_RETURN_RANGES[self.env_id]
        if self._reward_threshold is not None and self.random_return < self._reward_threshold:
            return self.random_return, float(self._reward_threshold)
        return None

    # ------------------------------------------------------------- networks
    def build(self, architecture: Architecture) -> nn.Module:
        return build_model(architecture)

    def example_input(self, batch_size: int = 1) -> torch.Tensor:
        """Observations from resets on the validation seeds (repeated to ``batch_size``)."""
        reps = -(-batch_size // len(self._example))
        return self._example.repeat(reps, *([1] * (self._example.dim() - 1)))[:batch_size].clone()

    # ------------------------------------------------------------ evaluation
    def episode_returns(
        self, policy: nn.Module | None, seeds: Sequence[int] | None = None
    ) -> list[float]:
        """Return of one greedy episode per seed (default: the validation seeds); ``None``
        plays the uniformly random policy."""
        chosen = self.eval_seeds if seeds is None else seeds
        return episode_returns(self.env_id, self.env_kwargs, chosen, policy)

    def metrics_of(self, returns: Sequence[float], prefix: str = "") -> dict[str, float]:
        """``mean_return``, ``std_return`` and ``normalized_return`` of episode returns (keys
        prefixed with ``prefix``, e.g. ``"test_"``)."""
        mean = float(np.mean(returns))
        if self.return_range:
            low, high = self.return_range
            normalized = float(np.clip((mean - low) / (high - low), 0.0, 1.0))
        else:
            normalized = mean
        return {
            f"{prefix}normalized_return": normalized,
            f"{prefix}mean_return": mean,
            f"{prefix}std_return": float(np.std(returns)),
        }

    def train_policy(self, architecture: Architecture, *, seed: int, timesteps: int) -> nn.Module:
        """The trained policy network (``build_model(architecture)``, eval mode); the caller
        seeds torch and pins its threads."""
        if self.trainer == "ppo":
            from darwin_bench.tasks.vector_ppo import train_vector_ppo

            return train_vector_ppo(
                self.env_id,
                architecture,
                timesteps=timesteps,
                seed=seed,
                config=self.ppo,
                env_kwargs=self.env_kwargs,
            )
        from darwin_bench.tasks.ppo import export_policy, train_ppo

        agent = train_ppo(
            self.env_id,
            architecture,
            timesteps=timesteps,
            seed=seed,
            hyperparameters=self.ppo.sb3_kwargs(),
            n_envs=self.ppo.n_envs,
            env_kwargs=self.env_kwargs,
        )
        return export_policy(agent, architecture)

    def _fit(
        self, architecture: Architecture, *, seed: int, fidelity: dict[str, int]
    ) -> TaskResult:
        policy = self.train_policy(architecture, seed=seed, timesteps=fidelity["timesteps"])
        if not all(torch.isfinite(p).all() for p in policy.parameters()):
            raise TrainingDiverged("policy weights became non-finite during PPO training")
        returns = self.episode_returns(policy)
        test_returns = self.episode_returns(policy, self.test_seeds)
        return TaskResult(
            self.metrics_of(returns),
            policy,
            details={"returns": returns, "test_returns": test_returns},
            test_metrics=self.metrics_of(test_returns, "test_"),
        )
