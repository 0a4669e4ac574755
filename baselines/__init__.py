"""Search agents: the source papers' methods and classic baselines."""

from __future__ import annotations

from typing import Any

from baselines.ask_tell import AskTell
from baselines.base import Agent, AgentConfig, EnvFactory
from baselines.evo_synthesis import EvoSynthesis
from baselines.ga import GeneticAlgorithm
from baselines.hyperband import Hyperband
from baselines.local_search import LocalSearch
from baselines.nsga2 import NSGA2
from baselines.ppo import PPOController
from baselines.random_search import RandomSearch
from baselines.rea import RegularizedEvolution
from baselines.successive_halving import SuccessiveHalving
from baselines.tpe import TPE

#: Agent name -> class.
AGENTS: dict[str, type[Agent[Any]]] = {RandomSearch.name: RandomSearch}
AGENTS[GeneticAlgorithm.name] = GeneticAlgorithm
AGENTS[EvoSynthesis.name] = EvoSynthesis  # seed 000, synapse-mask envs only
AGENTS.update(
    {
        a.name: a
        for a in (RegularizedEvolution, PPOController, SuccessiveHalving, Hyperband, LocalSearch)
    }
)
AGENTS.update({a.name: a for a in (TPE, NSGA2)})  # on Optuna: the extra [optuna]


def make_agent(name: str, config: dict[str, Any] | None = None) -> Agent[Any]:
    """Instantiate an agent with a config dict: a built-in ``name``, or a user's agent as
    ``path.py:Class`` or ``module:Class`` (see :func:`baselines.loading.resolve_agent`).

    Raises:
        ValueError: for an unknown agent name (listing the known ones), a user agent that
            cannot be loaded, or an unknown config key.
    """
    from baselines.loading import resolve_agent

    return resolve_agent(name).make(config)


__all__ = ["AGENTS", "Agent", "AgentConfig", "AskTell", "EnvFactory", "make_agent"]
