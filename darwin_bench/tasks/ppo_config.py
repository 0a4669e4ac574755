"""PPO settings shared by both control-task trainers (stable-baselines3 names)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from darwin_bench.validation import check_choice, check_positive_float, check_positive_int


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


#: Tuned PPO settings per env id. CartPole-v1: SB3's defaults (2,048-step rollouts, minibatches
#: of 64, 10 epochs) as 8 envs of 256 steps, with a learning rate of 1e-3; chosen on validation
#: episodes of tuning seeds 101-103 over rl-baselines3-zoo's CartPole entry and SB3's defaults
#: (docs/performance.md, "Fast control tasks").
TUNED_PPO: dict[str, PPOConfig] = {
    "CartPole-v1": PPOConfig(
        n_envs=8,
        n_steps=256,
        batch_size=64,
        n_epochs=10,
        learning_rate=1e-3,
        gamma=0.99,
        gae_lambda=0.95,
    ),
}

#: Default training timesteps per env id, chosen on validation episodes and tuning seeds (see
#: docs/performance.md): the smallest multiple of 8,192 steps at which the reference 64-64 tanh
#: policy's mean validation return over the tuning seeds reaches 475.
TUNED_TIMESTEPS: dict[str, int] = {"CartPole-v1": 16_384}
