"""NSGA-II (Deb et al., 2002) on Optuna's ``NSGAIISampler``: a multi-objective search.

The objectives are the env's raw ones (``info["objectives"]``): the task's score, maximized,
and every cost the env reports as an objective, minimized: the reward's cost alone, or, with
extra costs (env kwargs ``costs=[...]``, e.g. ``reward="multi"``), each cost under its own
name. NSGA-II needs a fixed search space, so every trial suggests every gene
(``AskTell.genome``); the genome is canonicalized, so parameter sets that differ only in
inactive genes are one network, answered by the adapter's cache without spending budget.
Selection is NSGA-II's: non-dominated sorting, then crowding distance, over populations of
``population_size``. The scalar reward is not used for selection (the run log still records
it, and the incumbent is the highest-reward network as for every agent). Needs the extra
``[optuna]``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from baselines.ask_tell import AskTell, Outcome
from baselines.base import Agent, AgentConfig, EnvFactory
from baselines.optuna_loop import optimize, require_optuna
from baselines.tpe import suggest_gene
from darwin_bench.validation import check_positive_int


@dataclass
class NSGA2Config(AgentConfig):
    """Settings of NSGA-II (Optuna's names and meanings).

    Attributes:
        population_size: individuals per generation (at least 2).
        crossover_prob: probability that a child is a crossover of two parents.
        swapping_prob: with uniform crossover, probability of taking each gene from the
            second parent.
        mutation_prob: probability of resampling each gene (``None``: ``1 / genes``).
        max_repeats: answers from the cache in a row before a random unseen network is
            enqueued.
    """

    population_size: int = 20
    crossover_prob: float = 0.9
    swapping_prob: float = 0.5
    mutation_prob: float | None = None
    max_repeats: int = 10

    def __post_init__(self) -> None:
        if check_positive_int("population_size", self.population_size) < 2:
            raise ValueError(f"population_size must be at least 2; got {self.population_size}")
        for name in ("crossover_prob", "swapping_prob", "mutation_prob"):
            value = getattr(self, name)
            if value is not None and not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1]; got {value!r}")
        check_positive_int("max_repeats", self.max_repeats)


def objective_names(objectives: dict[str, float]) -> list[str]:
    """The objectives NSGA-II optimizes: ``score``, then the costs (each once: with extra
    costs, the reward's cost appears under its own name too, so ``cost`` is dropped)."""
    costs = [k for k in objectives if k != "score"]
    if len(costs) > 1:
        costs = [k for k in costs if k != "cost"]
    return ["score", *costs]


class NSGA2(Agent[NSGA2Config]):
    """NSGA-II on the score and the costs of the env's objective vector."""

    name = "nsga2"
    config_class = NSGA2Config

    def run(self, envs: EnvFactory, seed: int) -> None:
        optuna = require_optuna(self.name)
        cfg = self.config
        env = envs.make()
        adapter = AskTell(env, seed=seed)

        # The objective names come from the env's first answer: a random network, told to
        # the study as its first trial (NSGA-II's first generation is random anyway).
        first = adapter.evaluate(adapter.space.sample(np.random.default_rng(seed)))
        names = objective_names(first.objectives)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = optuna.samplers.NSGAIISampler(
                population_size=cfg.population_size,
                crossover_prob=cfg.crossover_prob,
                swapping_prob=cfg.swapping_prob,
                mutation_prob=cfg.mutation_prob,
                seed=seed,
            )
        directions = ["maximize"] + ["minimize"] * (len(names) - 1)
        study = optuna.create_study(directions=directions, sampler=sampler)
        distributions = {
            g.name: (
                optuna.distributions.IntDistribution(0, g.size - 1)
                if g.ordered
                else optuna.distributions.CategoricalDistribution(list(range(g.size)))
            )
            for g in adapter.genes
        }
        params = {g.name: int(v) for g, v in zip(adapter.genes, first.genome)}
        values = self._values(names, first)
        study.add_trial(
            optuna.trial.create_trial(
                params=params,
                distributions=distributions,
                values=values,
                state=optuna.trial.TrialState.COMPLETE
                if values is not None
                else optuna.trial.TrialState.FAIL,
            )
        )

        def suggest(adapter: AskTell, trial: Any) -> np.ndarray:
            return adapter.genome({g.name: suggest_gene(trial, g) for g in adapter.genes})

        if not adapter.done:
            optimize(
                adapter,
                study,
                suggest,
                lambda outcome: self._values(names, outcome),
                seed=seed,
                max_repeats=cfg.max_repeats,
            )
        env.close()

    @staticmethod
    def _values(names: list[str], outcome: Outcome) -> list[float] | None:
        """The objective vector of an outcome, or ``None`` when it lacks one (a failure)."""
        if not outcome.ok or any(n not in outcome.objectives for n in names):
            return None
        return [float(outcome.objectives[n]) for n in names]
