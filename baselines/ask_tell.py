"""`AskTell`: let any ask/tell optimizer (Optuna, Nevergrad, Syne Tune, ...) drive a proposal env.

An optimizer proposes parameters; the adapter turns them into a genome of the env's search
space, evaluates it with one env step, and hands back the reward and the objectives::

    adapter = AskTell(gym.make("darwin_bench/Digits-MLP-v0", budget=50), seed=0)
    while not adapter.done:
        trial = study.ask()
        genome = adapter.suggest(lambda gene: trial.suggest_int(gene.name, 0, gene.size - 1))
        outcome = adapter.evaluate(genome)
        study.tell(trial, outcome.reward)

**Active genes.** Some genes only matter given others (a layered space's layer genes beyond
its depth; see ``SearchSpace.active_genes``). :meth:`AskTell.suggest` builds a genome gene by
gene and asks the optimizer only for the genes that are active given the ones already chosen
(inactive genes get their canonical value), so a define-by-run optimizer never models genes
that do not matter. :meth:`AskTell.genome` takes a value for every gene (a fixed search space,
for optimizers that need one) and ignores the inactive ones. Either way the genome is
canonicalized (``SearchSpace.canonical``): two parameter sets that decode to one network are
one genome.

**What spends budget** (exactly):

- :meth:`AskTell.evaluate` of a genome not yet evaluated in this run (at this fidelity) steps
  the env once and spends what one env step spends: one unit of an ``evaluations`` budget,
  or the network's training cost under another budget kind.
- :meth:`AskTell.evaluate` of a genome already evaluated in this run at the same fidelity
  (after canonicalization: e.g. it differs only in inactive genes) is answered from the
  adapter's cache: the env is not stepped, nothing is spent, the run log does not record it
  again, and :attr:`Outcome.cached` is True.
- :meth:`AskTell.suggest` and :meth:`AskTell.genome` spend nothing; neither does a suggestion
  that is infeasible (``suggest`` returns ``None``: tell the optimizer it failed).
- ``evaluate(genome, again=True)`` steps the env even for a genome already evaluated, and so
  spends budget (for a space smaller than the budget: once every network has been evaluated,
  only repeats are left, and only spending ends the run).

The run ends when the env truncates it (:attr:`AskTell.done`); evaluating a new genome after
that raises. :meth:`AskTell.reset` starts a new run with an empty cache.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import gymnasium as gym
import numpy as np

from darwin_bench.spaces.base import Gene
from envs.helpers import helpers


@dataclass(frozen=True)
class Outcome:
    """What one evaluation of a genome returned.

    Attributes:
        genome: the canonical genome evaluated.
        reward: the env's reward.
        objectives: the raw objectives (``score`` to maximize, costs to minimize).
        metrics: validation metrics (never test metrics).
        costs: the network's costs.
        ok: False when the evaluation failed (e.g. training diverged).
        cached: True when the adapter answered from its cache (nothing was spent).
        info: the step's whole ``info`` dict.
    """

    genome: np.ndarray
    reward: float
    objectives: dict[str, float]
    metrics: dict[str, float]
    costs: dict[str, float]
    ok: bool
    cached: bool = False
    info: dict[str, Any] = field(default_factory=dict, repr=False)


class AskTell:
    """Drive a proposal env from an ask/tell optimizer (see the module docstring).

    Args:
        env: a proposal env (``gym.make(...)`` or an agent's ``envs.make()``); the adapter
            resets it.
        seed: the run seed of that reset.

    Raises:
        ValueError: when ``env`` is not a darwin_bench proposal env.
    """

    def __init__(self, env: gym.Env[Any, Any], seed: int | None = None) -> None:
        self.env = env
        self.helpers = helpers(env, "proposal")
        self.space = self.helpers.search_space
        self._cache: dict[tuple[bytes, tuple[tuple[str, int], ...]], Outcome] = {}
        self._done = False
        self.reset(seed)

    @property
    def genes(self) -> tuple[Gene, ...]:
        """The space's genes (name, choices, ordered), in genome order."""
        return self.space.genes

    @property
    def done(self) -> bool:
        """True once the env has truncated the run (its budget is spent)."""
        return self._done

    def reset(self, seed: int | None = None) -> None:
        """Start a new run of the env (fresh budget) with an empty cache."""
        self.env.reset(seed=seed)
        self._cache.clear()
        self._done = False

    def suggest(self, choose: Callable[[Gene], int]) -> np.ndarray | None:
        """Build a genome gene by gene, calling ``choose(gene)`` (a choice index in
        ``0..gene.size-1``) only for genes active given the earlier choices.

        Returns:
            The canonical genome, or ``None`` when a choice is infeasible given the earlier
            ones (constrained spaces); nothing is spent either way.

        Raises:
            ValueError: when ``choose`` returns an index out of the gene's range.
        """
        prefix: list[int] = []
        for k, gene in enumerate(self.space.genes):
            if not self.space.active_genes(self.space.completion(prefix))[k]:
                prefix.append(0)
                continue
            choice = int(choose(gene))
            if not 0 <= choice < gene.size:
                raise ValueError(f"choice for gene {gene.name!r} must be in 0..{gene.size - 1}")
            if not self.space.choice_mask(prefix)[choice]:
                return None
            prefix.append(choice)
        return self.space.canonical(np.asarray(prefix, dtype=np.int64))

    def genome(self, params: Mapping[str, int]) -> np.ndarray:
        """The canonical genome of ``params`` (gene name -> choice index; inactive genes may
        be missing and are ignored).

        Raises:
            ValueError: naming a missing active gene, an unknown name or an invalid genome.
        """
        names = [g.name for g in self.space.genes]
        unknown = sorted(set(params) - set(names))
        if unknown:
            raise ValueError(f"params {unknown} are not genes of the space; genes: {names}")
        raw = np.array([int(params.get(name, 0)) for name in names], dtype=np.int64)
        missing = [
            name
            for name, active in zip(names, self.space.active_genes(raw))
            if active and name not in params
        ]
        if missing:
            raise ValueError(f"params must give every active gene; missing: {missing}")
        return self.space.canonical(raw)

    def params(self, genome: np.ndarray) -> dict[str, int]:
        """The active genes of a genome as ``{name: choice}`` (what :meth:`suggest` asks)."""
        canonical = self.space.canonical(genome)
        active = self.space.active_genes(canonical)
        return {g.name: int(v) for g, v, a in zip(self.space.genes, canonical, active) if a}

    def seen(self, genome: np.ndarray, fidelity: Mapping[str, int] | None = None) -> bool:
        """True when ``genome`` was evaluated in this run (at ``fidelity``): free to ask."""
        return self._key(self.space.canonical(genome), fidelity) in self._cache

    def _key(
        self, genome: np.ndarray, fidelity: Mapping[str, int] | None
    ) -> tuple[bytes, tuple[tuple[str, int], ...]]:
        full = {**self.helpers.fidelity, **dict(fidelity or {})}
        return genome.astype(np.int64).tobytes(), tuple(sorted(full.items()))

    def evaluate(
        self,
        genome: np.ndarray,
        fidelity: Mapping[str, int] | None = None,
        *,
        again: bool = False,
    ) -> Outcome:
        """Evaluate ``genome`` (at ``fidelity``, default the env's) or answer from the cache
        (``again=True``: step the env anyway, spending budget).

        Raises:
            ValueError: for an invalid genome or fidelity.
            RuntimeError: for a genome not evaluated yet when the run is done.
        """
        canonical = self.space.canonical(genome)
        key = self._key(canonical, fidelity)
        if key in self._cache and not again:
            return replace(self._cache[key], cached=True)
        if self._done:
            raise RuntimeError("the run's budget is spent (adapter.done); reset() starts a new run")
        if fidelity is not None:
            self.helpers.set_fidelity(fidelity)
        try:
            _, reward, _, truncated, info = self.env.step(canonical)
        finally:
            if fidelity is not None:
                self.helpers.set_fidelity(None)
        self._done = bool(truncated)
        if "evaluation_id" not in info:  # the env's run was over before this step
            raise RuntimeError("the env evaluated nothing: its run's budget was already spent")
        outcome = Outcome(
            genome=canonical,
            reward=float(reward),
            objectives=dict(info.get("objectives", {})),
            metrics=dict(info.get("metrics", {})),
            costs=dict(info.get("costs", {})),
            ok=info.get("status", "ok") == "ok",
            info=info,
        )
        self._cache[key] = outcome
        return outcome
