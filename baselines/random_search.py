"""Random search: propose genomes drawn uniformly from the space until the budget is spent."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from baselines.base import Agent, AgentConfig, EnvFactory
from envs.helpers import helpers


@dataclass
class RandomSearchConfig(AgentConfig):
    """Random search has no settings."""


class RandomSearch(Agent[RandomSearchConfig]):
    """Sample, evaluate, repeat (Li & Talwalkar 2019: a strong baseline for NAS)."""

    name = "random"
    config_class = RandomSearchConfig

    def run(self, envs: EnvFactory, seed: int) -> None:
        env = envs.make()
        space = helpers(env, "proposal").search_space
        rng = np.random.default_rng(seed)
        env.reset(seed=seed)
        truncated = False
        while not truncated:
            _, _, _, truncated, _ = env.step(space.sample(rng))
        env.close()
