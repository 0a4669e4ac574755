"""The public agent contract: a config dataclass, the env forms an agent works on, ``run``.

A user's agent is written exactly like a built-in one::

    @dataclass
    class MyConfig(AgentConfig):
        step: int = 1

    class MyAgent(Agent[MyConfig]):
        name = "mine"
        config_class = MyConfig

        def run(self, envs: EnvFactory, seed: int) -> None:
            env = envs.make()
            space = helpers(env, "proposal").search_space
            ...

``self.config`` is then typed as ``MyConfig``; the env helpers are typed by
:mod:`envs.helpers`. Run it with ``darwin-bench run --agent my_file.py:MyAgent`` (see
docs/agents.md, "Write your own agent").
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

import gymnasium as gym
import numpy as np
from gymnasium.vector import VectorEnv

from baselines.config import Config
from envs import framework


@dataclass
class AgentConfig(Config):
    """Base of agent configs (each agent documents its own fields)."""


class EnvFactory:
    """Makes the envs of one run, all with the same id and kwargs, all feeding its run log.

    Agents get one of these instead of an env so that they can choose the form they need:
    :meth:`make` for a single env, :meth:`make_vec` for a population env. The factory keeps
    the envs it made, and :meth:`close` closes them all, so that an agent that raises does not
    leave worker processes or cache connections behind (the runner calls it in ``finally``).

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
        self._made: list[Any] = []

    def _attach(self, env: gym.Env[Any, Any] | VectorEnv[Any, Any, Any]) -> None:
        self._made.append(env)
        framework.preload(env, self.preload)
        for recorder in self.recorders:
            framework.add_recorder(env, recorder)

    def make(self) -> gym.Env[np.ndarray, Any]:
        """A single env (proposal or builder form, as registered)."""
        env = gym.make(self.env_id, **self.env_kwargs)
        self._attach(env)
        return env

    def make_vec(self, num_envs: int) -> VectorEnv[np.ndarray, np.ndarray, np.ndarray]:
        """A population env that evaluates ``num_envs`` proposals per step."""
        env = gym.make_vec(
            self.env_id,
            num_envs=num_envs,
            vectorization_mode="vector_entry_point",
            **self.env_kwargs,
        )
        self._attach(env)
        return env

    def close(self) -> None:
        """Close every env this factory made (closing one twice is harmless)."""
        while self._made:
            self._made.pop().close()


ConfigT = TypeVar("ConfigT", bound=AgentConfig)


class Agent(ABC, Generic[ConfigT]):
    """A search algorithm. It talks to envs only through Gymnasium's API and the helpers of
    :mod:`envs.helpers`.

    Subclass it as ``Agent[MyConfig]`` with ``config_class = MyConfig``: ``self.config`` is
    then a ``MyConfig`` for the type checker and at run time.

    Attributes:
        name: the agent's name (runs, run logs, tables).
        config_class: its config dataclass (default: :class:`AgentConfig`, no settings).
        forms: the env forms it works on (``"proposal"``, ``"builder"``, ``"synapses"``).
        config: the agent's settings.
    """

    name: ClassVar[str] = "agent"
    config_class: type[ConfigT]
    forms: ClassVar[tuple[str, ...]] = ("proposal",)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not hasattr(cls, "config_class"):  # an agent without settings
            setattr(cls, "config_class", AgentConfig)  # noqa: B010 (typed as type[ConfigT])

    def __init__(self, config: ConfigT | None = None) -> None:
        self.config: ConfigT = config if config is not None else self.config_class()

    @abstractmethod
    def run(self, envs: EnvFactory, seed: int) -> None:
        """Search until the env's budget is spent."""
