"""The loop the Optuna agents (``tpe``, ``nsga2``) share: a study asks, :class:`AskTell` answers.

One pass of the loop: ``study.ask()`` gives a trial; the agent's ``suggest(adapter, trial)``
turns it into a genome; the adapter evaluates it (one env step) or answers from its cache
(a repeat, nothing spent); ``study.tell`` gets the reward or the objectives. An infeasible
suggestion or a failed evaluation is told as a failed trial. The loop ends when the env
truncates the run.

Repeats: a sampler that keeps proposing networks already evaluated would loop without
spending budget. After ``max_repeats`` answers from the cache in a row, the next trial is a
random network not evaluated yet (``study.enqueue_trial``). When none is left (a space smaller
than the budget, every network evaluated), repeats are evaluated again by the env from then
on (``AskTell.evaluate(..., again=True)``), spending budget, so the run always ends. How often
each happened is in ``OptunaRun``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from baselines.ask_tell import AskTell, Outcome


def require_optuna(agent: str) -> ModuleType:
    """Import optuna (quiet: warnings only), or fail naming the extra to install.

    Raises:
        ValueError: when optuna is not installed.
    """
    try:
        import optuna
    except ImportError:  # pragma: no cover - CI installs the extra
        raise ValueError(
            f"agent {agent!r} needs optuna: pip install 'darwin-bench[optuna]'"
        ) from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


@dataclass
class OptunaRun:
    """Counts of one run of the loop."""

    evaluated: int = 0
    repeats: int = 0
    infeasible: int = 0
    escapes: int = 0
    exhausted: bool = False


def _unseen(adapter: AskTell, rng: np.random.Generator) -> np.ndarray | None:
    for _ in range(1000):
        genome = adapter.space.sample(rng)
        if not adapter.seen(genome):
            return genome
    return None


def optimize(
    adapter: AskTell,
    study: Any,
    suggest: Callable[[AskTell, Any], np.ndarray | None],
    values: Callable[[Outcome], float | Sequence[float] | None],
    *,
    seed: int,
    max_repeats: int,
) -> OptunaRun:
    """Run the ask/evaluate/tell loop until the env's budget is spent.

    Args:
        adapter: the adapter over the run's proposal env (already reset).
        study: an Optuna study.
        suggest: ``(adapter, trial) -> genome`` (``None`` when infeasible).
        values: what to tell for an outcome (``None``: a failed trial).
        seed: seeds the generator of the escapes' random networks.
        max_repeats: cache answers in a row before an escape.
    """
    import optuna

    rng = np.random.default_rng(seed)
    run = OptunaRun()
    in_a_row = 0
    while not adapter.done:
        if in_a_row >= max_repeats and not run.exhausted:
            genome = _unseen(adapter, rng)
            if genome is not None:
                study.enqueue_trial(adapter.params(genome))
                run.escapes += 1
            run.exhausted = genome is None
            in_a_row = 0
        trial = study.ask()
        genome = suggest(adapter, trial)
        if genome is None:
            run.infeasible += 1
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            continue
        outcome = adapter.evaluate(genome, again=run.exhausted)
        in_a_row = in_a_row + 1 if outcome.cached else 0
        run.repeats += int(outcome.cached)
        run.evaluated += int(not outcome.cached)
        told = values(outcome) if outcome.ok else None
        if told is None:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
        else:
            study.tell(trial, told)
    return run
