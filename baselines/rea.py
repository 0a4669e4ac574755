"""Regularized evolution (REA; Real, Aggarwal, Huang & Le, AAAI 2019).

A fixed-size population lives in a queue. Each cycle samples ``sample_size`` members at
random, mutates the one with the highest reward, evaluates the child, appends it to the queue
and removes the *oldest* member (aging), whatever its reward. Aging keeps the search from
resting on one lucky evaluation; it is what "regularized" means in the paper.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from baselines.base import Agent, AgentConfig, EnvFactory
from darwin_bench.validation import check_positive_int
from envs.helpers import helpers


@dataclass
class REAConfig(AgentConfig):
    """Settings of regularized evolution.

    Attributes:
        population_size: members kept alive (the paper's P); the first ``population_size``
            evaluations are random genomes. Capped by the budget.
        sample_size: members drawn per cycle to pick a parent from (the paper's S);
            ``sample_size == population_size`` always mutates the population's best (greedy),
            ``1`` mutates a random member. Capped by the population size.
    """

    population_size: int = 20
    sample_size: int = 5

    def __post_init__(self) -> None:
        check_positive_int("population_size", self.population_size)
        check_positive_int("sample_size", self.sample_size)


@dataclass
class Member:
    """A living member: its genome and the reward its evaluation earned."""

    genome: np.ndarray
    reward: float


class RegularizedEvolution(Agent[REAConfig]):
    """Aging evolution with tournament-style parent selection and single-gene mutation."""

    name = "rea"
    config_class = REAConfig

    def run(self, envs: EnvFactory, seed: int) -> None:
        config = self.config
        env = envs.make()
        space = helpers(env, "proposal").search_space
        rng = np.random.default_rng(seed)
        env.reset(seed=seed)

        def evaluate(genome: np.ndarray) -> tuple[Member, bool]:
            _, reward, _, truncated, _ = env.step(genome)
            return Member(genome, float(reward)), bool(truncated)

        # 1. A random initial population.
        population: deque[Member] = deque()
        truncated = False
        while len(population) < config.population_size and not truncated:
            member, truncated = evaluate(space.sample(rng))
            population.append(member)

        # 2. Evolution cycles: sample, mutate the best of the sample, add the child, kill the
        #    oldest.
        sample_size = min(config.sample_size, len(population))
        while not truncated:
            picks = rng.choice(len(population), size=sample_size, replace=False)
            parent = max((population[int(i)] for i in picks), key=lambda m: m.reward)
            child, truncated = evaluate(space.mutate(parent.genome, rng))
            population.append(child)
            population.popleft()
        env.close()
