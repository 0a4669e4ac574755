"""TPE (Bergstra et al., NeurIPS 2011) on Optuna's ``TPESampler``, through :class:`AskTell`.

Each trial builds a genome define-by-run: only the genes active given the earlier ones are
suggested (``AskTell.suggest``), an ordered gene (widths, kernels, depth) as an integer so that
TPE's density models see its order, an unordered one (activations, pooling) as a categorical.
The trial's value is the env's reward (maximized). The first ``n_startup_trials`` trials are
random; with ``multivariate`` TPE models the genes jointly, and ``group`` splits the space into
groups of genes that appear together (conditional layer genes), as Optuna recommends for
define-by-run spaces. Repeats of an evaluated network are answered by the adapter's cache
without spending budget (see :mod:`baselines.optuna_loop` for the escape from endless
repeats). Needs the extra ``[optuna]``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from baselines.ask_tell import AskTell
from baselines.base import Agent, AgentConfig, EnvFactory
from baselines.optuna_loop import optimize, require_optuna
from darwin_bench.spaces.base import Gene
from darwin_bench.validation import check_positive_int


@dataclass
class TPEConfig(AgentConfig):
    """Settings of TPE (Optuna's names and meanings).

    Attributes:
        n_startup_trials: random trials before TPE models the results.
        n_ei_candidates: candidates drawn from the good-trials density per trial; the one
            with the best density ratio is proposed.
        multivariate: model the genes jointly (else one density per gene).
        group: with ``multivariate``, model groups of genes that appear together separately
            (conditional genes of layered spaces).
        max_repeats: answers from the cache in a row before a random unseen network is
            enqueued.
    """

    n_startup_trials: int = 10
    n_ei_candidates: int = 24
    multivariate: bool = True
    group: bool = True
    max_repeats: int = 3

    def __post_init__(self) -> None:
        check_positive_int("n_startup_trials", self.n_startup_trials)
        check_positive_int("n_ei_candidates", self.n_ei_candidates)
        check_positive_int("max_repeats", self.max_repeats)
        if self.group and not self.multivariate:
            raise ValueError("group needs multivariate=true")


def suggest_gene(trial: Any, gene: Gene) -> int:
    """One gene's choice index from an Optuna trial: an integer for an ordered gene, a
    categorical over the indices for an unordered one."""
    if gene.ordered:
        return int(trial.suggest_int(gene.name, 0, gene.size - 1))
    return int(trial.suggest_categorical(gene.name, list(range(gene.size))))


class TPE(Agent[TPEConfig]):
    """Tree-structured Parzen estimator over the active genes, maximizing the env's reward."""

    name = "tpe"
    config_class = TPEConfig

    def run(self, envs: EnvFactory, seed: int) -> None:
        optuna = require_optuna(self.name)
        cfg = self.config
        env = envs.make()
        adapter = AskTell(env, seed=seed)
        with warnings.catch_warnings():  # multivariate and group are "experimental" in Optuna
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = optuna.samplers.TPESampler(
                n_startup_trials=cfg.n_startup_trials,
                n_ei_candidates=cfg.n_ei_candidates,
                multivariate=cfg.multivariate,
                group=cfg.group,
                seed=seed,
            )
        study = optuna.create_study(direction="maximize", sampler=sampler)

        def suggest(adapter: AskTell, trial: Any) -> np.ndarray | None:
            return adapter.suggest(lambda gene: suggest_gene(trial, gene))

        optimize(
            adapter,
            study,
            suggest,
            lambda outcome: outcome.reward,
            seed=seed,
            max_repeats=cfg.max_repeats,
        )
        env.close()
