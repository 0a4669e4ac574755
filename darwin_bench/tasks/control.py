"""`ControlTask`: any Gymnasium env id; policy networks trained by PPO, scored by mean return.

A proposed architecture is the policy network (observation -> action logits for a ``Discrete``
action space, action means for a ``Box`` one). It is trained with stable-baselines3 PPO for
``timesteps`` environment steps (the fidelity), then run deterministically (argmax / the mean,
clipped to the action bounds) for one episode on each of a fixed list of evaluation seeds.

Metrics: ``mean_return`` and ``std_return`` over those episodes, and ``normalized_return`` =
``(mean_return - low) / (high - low)`` clipped to [0, 1] (the search-facing score), where
``(low, high)`` is the env's return range: known for classic-control envs, given by
``return_range``, or else (random-policy return, ``spec.reward_threshold``). An env with neither
is scored by its raw mean return, whose range is unknown (``score_range`` is None): envs then
refuse the rewards that need one unless given ``score_range`` (see :mod:`darwin_bench.rewards`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
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
from darwin_bench.validation import check_choice, check_positive_float, check_positive_int

#: Offset of the evaluation seeds, far from the training envs' seeds (``seed + i``).
EVAL_SEED_BASE = 1_000_000

#: Return ranges (worst, best) of an episode, for envs whose range is known.
KNOWN_RETURN_RANGES: dict[str, tuple[float, float]] = {
    "CartPole-v0": (0.0, 200.0),
    "CartPole-v1": (0.0, 500.0),
    "Acrobot-v1": (-500.0, 0.0),
    "MountainCar-v0": (-200.0, 0.0),
}


@dataclass(frozen=True)
class PPOConfig:
    """PPO settings (stable-baselines3 names; schedules are ``"constant"`` or ``"linear"``).

    The defaults are SB3's general-purpose ones with 8 envs; :data:`TUNED_PPO` holds tuned
    settings per env id (rl-baselines3-zoo's hyperparameters where we use them).
    """

    n_envs: int = 8
    n_steps: int = 128
    batch_size: int = 256
    n_epochs: int = 10
    learning_rate: float = 3e-4
    lr_schedule: str = "constant"
    clip_range: float = 0.2
    clip_schedule: str = "constant"
    gamma: float = 0.99
    gae_lambda: float = 0.95
    ent_coef: float = 0.0
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5

    def __post_init__(self) -> None:
        for name in ("n_envs", "n_steps", "batch_size", "n_epochs"):
            check_positive_int(name, getattr(self, name))
        for name in ("learning_rate", "clip_range", "gamma", "gae_lambda", "max_grad_norm"):
            check_positive_float(name, getattr(self, name))
        check_choice("lr_schedule", self.lr_schedule, ("constant", "linear"))
        check_choice("clip_schedule", self.clip_schedule, ("constant", "linear"))

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable settings."""
        return asdict(self)

    def sb3_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``stable_baselines3.PPO`` (schedules become callables)."""
        kwargs = {k: v for k, v in asdict(self).items() if not k.endswith("schedule")}
        del kwargs["n_envs"]
        kwargs["learning_rate"] = _schedule(self.learning_rate, self.lr_schedule)
        kwargs["clip_range"] = _schedule(self.clip_range, self.clip_schedule)
        return kwargs


def _schedule(value: float, kind: str) -> Any:
    if kind == "constant":
        return value
    return _Linear(value)


@dataclass(frozen=True)
class _Linear:
    """Linear decay from ``value`` to 0 over training (SB3 passes the progress left, 1 -> 0)."""

    value: float

    def __call__(self, progress_remaining: float) -> float:
        return progress_remaining * self.value


#: Tuned PPO settings per env id. CartPole-v1: rl-baselines3-zoo's ``ppo.yml`` entry.
TUNED_PPO: dict[str, PPOConfig] = {
    "CartPole-v1": PPOConfig(
        n_envs=8,
        n_steps=32,
        batch_size=256,
        n_epochs=20,
        learning_rate=1e-3,
        lr_schedule="linear",
        clip_range=0.2,
        clip_schedule="linear",
        gamma=0.98,
        gae_lambda=0.8,
        ent_coef=0.0,
    ),
}


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


def _preprocess(space: gym.Space, obs: Any) -> torch.Tensor:
    """One observation as a float batch of 1, preprocessed as SB3 does."""
    from stable_baselines3.common.preprocessing import preprocess_obs

    tensor = torch.as_tensor(np.asarray(obs)[None])
    return preprocess_obs(tensor, space).float()  # type: ignore[union-attr]


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
        timesteps: default training budget in env steps (the fidelity ``timesteps``).
        ppo: PPO settings (default: :data:`TUNED_PPO` for ``env_id`` or :class:`PPOConfig`).
        eval_episodes: evaluation episodes, one per fixed seed.
        return_range: ``(worst, best)`` episode return used to normalize the score.
        env_kwargs: keyword arguments of ``gymnasium.make``.
        threads: torch threads while training (pinned for determinism).

    Raises:
        ValueError: for an unknown env id or an unsupported observation or action space.
    """

    metric: ClassVar[str] = "normalized_return"
    higher_is_better: ClassVar[bool] = True

    def __init__(
        self,
        env_id: str = "CartPole-v1",
        *,
        name: str | None = None,
        timesteps: int = 20_000,
        ppo: PPOConfig | Mapping[str, Any] | None = None,
        eval_episodes: int = 5,
        return_range: Sequence[float] | None = None,
        env_kwargs: Mapping[str, Any] | None = None,
        threads: int = 1,
        default_targets: Mapping[str, float] | None = None,
    ) -> None:
        self.env_id = env_id
        self.env_kwargs = dict(env_kwargs or {})
        env = make_gym_env(env_id, self.env_kwargs)
        try:
            self.observation_space = env.observation_space
            self.action_space = env.action_space
            self._input_shape = observation_shape(self.observation_space)
            self._num_outputs = action_size(self.action_space)
            self.eval_seeds = [
                EVAL_SEED_BASE + i
                for i in range(check_positive_int("eval_episodes", eval_episodes))
            ]
            self._example = torch.cat(
                [_preprocess(self.observation_space, env.reset(seed=s)[0]) for s in self.eval_seeds]
            )
            self._reward_threshold = env.spec.reward_threshold if env.spec else None
        finally:
            env.close()
        base = env_id.split("/")[-1].rsplit("-v", 1)[0]
        self.name = name or base.lower()
        self.fidelities = {"timesteps": check_positive_int("timesteps", timesteps)}
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
            default_targets or {"flops": 1e4, "params": 5e3, "synapses": 5e3, "latency_ms": 0.05}
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
        """Hash of what defines the problem: env id, its kwargs, spaces and evaluation seeds."""
        return data_hash(
            self.env_id,
            self.env_kwargs,
            *_space_parts(self.observation_space),
            *_space_parts(self.action_space),
            self.eval_seeds,
        )

    def config(self) -> dict[str, Any]:
        return {
            "env_id": self.env_id,
            "ppo": self.ppo.to_dict(),
            "eval_seeds": list(self.eval_seeds),
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
        """Mean return of the uniformly random policy on the evaluation seeds."""
        return float(np.mean(self._episode_returns(None)))

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
        """Observations from resets on the evaluation seeds (repeated to ``batch_size``)."""
        reps = -(-batch_size // len(self._example))
        return self._example.repeat(reps, *([1] * (self._example.dim() - 1)))[:batch_size].clone()

    # ------------------------------------------------------------ evaluation
    def _act(self, policy: nn.Module | None, obs: Any) -> Any:
        if policy is None:  # the random policy (the action space is seeded per episode)
            return self.action_space.sample()
        with torch.inference_mode():
            out = policy(_preprocess(self.observation_space, obs))[0]
        space = self.action_space
        if isinstance(space, spaces.Discrete):
            return int(out.argmax())
        assert isinstance(space, spaces.Box)
        return np.clip(out.numpy(), space.low, space.high).astype(space.dtype)

    def _episode_returns(self, policy: nn.Module | None) -> list[float]:
        """Return of one deterministic episode per evaluation seed (``None``: random policy)."""
        env = make_gym_env(self.env_id, self.env_kwargs)
        returns = []
        try:
            for seed in self.eval_seeds:
                self.action_space.seed(seed)
                obs, _ = env.reset(seed=seed)
                total, done = 0.0, False
                while not done:
                    obs, reward, terminated, truncated, _ = env.step(self._act(policy, obs))
                    total += float(reward)
                    done = terminated or truncated
                returns.append(total)
        finally:
            env.close()
        return returns

    def metrics_of(self, returns: Sequence[float]) -> dict[str, float]:
        """``mean_return``, ``std_return`` and ``normalized_return`` of episode returns."""
        mean = float(np.mean(returns))
        if self.return_range:
            low, high = self.return_range
            normalized = float(np.clip((mean - low) / (high - low), 0.0, 1.0))
        else:
            normalized = mean
        return {
            "normalized_return": normalized,
            "mean_return": mean,
            "std_return": float(np.std(returns)),
        }

    def _fit(
        self, architecture: Architecture, *, seed: int, fidelity: dict[str, int]
    ) -> TaskResult:
        from darwin_bench.tasks.ppo import export_policy, train_ppo

        agent = train_ppo(
            self.env_id,
            architecture,
            timesteps=fidelity["timesteps"],
            seed=seed,
            hyperparameters=self.ppo.sb3_kwargs(),
            n_envs=self.ppo.n_envs,
            env_kwargs=self.env_kwargs,
        )
        policy = export_policy(agent, architecture)
        if not all(torch.isfinite(p).all() for p in policy.parameters()):
            raise TrainingDiverged("policy weights became non-finite during PPO training")
        returns = self._episode_returns(policy)
        return TaskResult(self.metrics_of(returns), policy, details={"returns": returns})
