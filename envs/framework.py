"""Framework hooks: what the runner, reports and reproductions need from an env (never agents).

Agents see an env through Gymnasium's API and :mod:`envs.helpers` (validation metrics only).
The framework around them needs more: the run log records every full evaluation (test metrics
included), a resumed run answers the evaluator from the log, and the log's header describes
the problem. These functions give exactly that, for any darwin_bench env through any wrappers,
so that no code outside ``envs`` reaches into an env's internals.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from darwin_bench.evaluation import Evaluation
from darwin_bench.tasks import Task
from envs.core import CoreHelpers, SearchCore
from envs.helpers import AnyEnv, Listener


def _core(env: AnyEnv) -> SearchCore:
    unwrapped = env.unwrapped
    if not isinstance(unwrapped, CoreHelpers):
        raise ValueError(f"env {type(unwrapped).__name__} is not a darwin_bench env")
    return unwrapped.core


def add_recorder(env: AnyEnv, recorder: Listener) -> None:
    """Call ``recorder(evaluation)`` with every full record of ``env``, test metrics included
    (run logs, progress bars, reports). Never hand a recorder to an agent."""
    _core(env).add_recorder(recorder)


def preload(env: AnyEnv, evaluations: Iterable[Evaluation]) -> None:
    """Answer ``env``'s evaluator from ``evaluations`` (a killed run's log, replayed), before
    its cache and without writing them to it (a shared cache must not get a run's failures)."""
    _core(env).evaluator.preload(list(evaluations))


def run_header(env: AnyEnv) -> dict[str, Any]:
    """The problem fields of a run log's header: ``reproducible`` (False when the budget is
    measured seconds, which depend on the machine and its load), ``data_hash``, ``problem``
    (task, space, reward, budget, fidelity, costs) and ``metric`` (the task's metric:
    ``name`` and ``higher_is_better``; reports read the incumbent's ``test_<name>``)."""
    core = _core(env)
    return {
        "reproducible": bool(core.budget_state().reproducible),
        "data_hash": core.task.data_hash,
        "problem": core.describe(),
        "metric": {"name": core.task.metric, "higher_is_better": core.task.higher_is_better},
    }


def task_of(env: AnyEnv) -> Task:
    """The env's task (reports and reproductions read reference networks' test metrics)."""
    return _core(env).task


def search_core(env: AnyEnv) -> SearchCore:
    """The env's :class:`~envs.core.SearchCore` itself, for framework code that re-executes
    the env's side of a logged run (the leaderboard's verifier evaluates logged genomes with
    it and puts an evaluator that answers from the log in place of the one that trains).
    Never hand it to an agent."""
    return _core(env)
