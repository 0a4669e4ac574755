"""What every search agent shares: a config dataclass, the env forms it works on, ``run``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import gymnasium as gym
from gymnasium.vector import VectorEnv

from baselines.config import Config


@dataclass
class AgentConfig(Config):
    """Base of agent configs (each agent documents its own fields)."""


class EnvFactory:
    """Makes the envs of one run, all with the same id and kwargs, all feeding its run log.

    Agents get one of these instead of an env so that they can choose the form they need:
    :meth:`make` for a single env, :meth:`make_vec` for a population env.

    Args:
        env_id: the registered env id.
        env_kwargs: its kwargs.
        recorders: framework callbacks (the run log's ``append``, progress bars) that get every
            full evaluation record, test metrics included; never handed to agents.
    """

    def __init__(self, env_id: str, env_kwargs: dict[str, Any], recorders: list[Any]) -> None:
        self.env_id = env_id
        self.env_kwargs = dict(env_kwargs)
        self.recorders = list(recorders)
        self.preload: list[Any] = []

    def _attach(self, unwrapped: Any) -> None:
        for evaluation in self.preload:
            unwrapped.core.evaluator.cache.put(evaluation)
        for recorder in self.recorders:
            unwrapped.core.add_recorder(recorder)

    def make(self) -> gym.Env:
        """A single env (proposal or builder form, as registered)."""
        env = gym.make(self.env_id, **self.env_kwargs)
        self._attach(env.unwrapped)
        return env

    def make_vec(self, num_envs: int) -> VectorEnv:
        """A population env that evaluates ``num_envs`` proposals per step."""
        env = gym.make_vec(
            self.env_id,
            num_envs=num_envs,
            vectorization_mode="vector_entry_point",
            **self.env_kwargs,
        )
        self._attach(env.unwrapped)
        return env


class Agent(ABC):
    """A search algorithm. It talks to envs only through Gymnasium's API and public helpers.

    Attributes:
        name: the agent's CLI name.
        config_class: its config dataclass.
        forms: the env forms it works on (``"proposal"``, ``"builder"``).
    """

    name: ClassVar[str] = "agent"
    config_class: ClassVar[type[AgentConfig]] = AgentConfig
    forms: ClassVar[tuple[str, ...]] = ("proposal",)

    def __init__(self, config: AgentConfig | None = None) -> None:
        self.config = config if config is not None else self.config_class()

    @abstractmethod
    def run(self, envs: EnvFactory, seed: int) -> None:
        """Search until the env's budget is spent."""
