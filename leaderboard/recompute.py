"""Re-run the env's side of a logged run: every evaluation recomputed from its genome.

The agent's side of a run is its proposals (genomes, fidelities); everything else in the log
is the env's: the architecture a genome decodes to, the training seed (derived from the run
seed, which the env derives from the run's seed at ``reset(seed=...)``), the evaluation id
(a content address), the reward, the objectives, the step and what the budget was charged.
:func:`recompute_run` feeds the logged proposals, in order, to a fresh env reset with the
run's seed and compares what it computes with every logged field:

- **tabular tracks**: the env's own evaluator answers from the shipped table, so metrics,
  test metrics, costs and seconds are checked *exactly* against the table;
- **live tracks**: a :class:`LoggedEvaluator` serves the logged measurements (nothing trains),
  so everything derived from them is checked; the measurements themselves are checked by
  retraining a sample (:mod:`leaderboard.retrain`).

The budget is charged by the env's own meter, so an evaluation logged after the budget was
spent, a wrong charge, or a run that stopped before spending its budget are found here too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from darwin_bench.architecture import Architecture
from darwin_bench.evaluation import EvalRequest, Evaluation, Evaluator
from darwin_bench.runlog import RunRecord, summarize
from envs import framework
from envs.core import SearchCore
from leaderboard.report import Rejection

#: Fields compared after the network's identity, in this order (the first difference is the
#: one reported for a line).
MEASURED = (
    "status",
    "reason",
    "metrics",
    "test_metrics",
    "costs",
    "train_seconds",
    "wall_seconds",
)
DERIVED = ("reward", "objectives", "step", "spent")


class LoggedEvaluator(Evaluator):
    """An evaluator that trains nothing: it answers the run's requests, in order, with the
    logged measurements (status, metrics, test metrics, costs, seconds) and everything else
    computed from the request (id, architecture, seed, fidelity, genome).

    Args:
        base: the env's evaluator (its task, cost settings and evaluation ids).
        logged: the logged evaluations, in order.
    """

    def __init__(self, base: Evaluator, logged: Sequence[Evaluation]) -> None:
        super().__init__(base.task, cost_config=base.cost_config, batched=base.batched)
        self.base = base
        self.logged = list(logged)
        self.position = 0

    def key(self, request: EvalRequest) -> str:
        """The env's own evaluation id of ``request``."""
        return self.base.key(request)

    def evaluate(self, requests: Sequence[EvalRequest]) -> list[Evaluation]:
        """The next logged measurements, one per request."""
        out = []
        for request in requests:
            logged = self.logged[self.position]
            self.position += 1
            out.append(
                Evaluation(
                    evaluation_id=self.key(request),
                    architecture=request.architecture.to_dict(),
                    seed=int(request.seed),
                    fidelity=self.task.check_fidelity(request.fidelity),
                    status=logged.status,
                    reason=logged.reason,
                    metrics=dict(logged.metrics),
                    test_metrics=dict(logged.test_metrics),
                    costs=dict(logged.costs),
                    train_seconds=logged.train_seconds,
                    wall_seconds=logged.wall_seconds,
                    genome=None if request.genome is None else [int(g) for g in request.genome],
                )
            )
        return out


@dataclass
class Recomputed:
    """What :func:`recompute_run` found for one run.

    Attributes:
        evaluations: the recomputed records (as many as were checked).
        rejections: every difference (at most one per line, then the footer's).
        run_seed: the run seed the env derived from the run's seed.
    """

    evaluations: list[Evaluation]
    rejections: list[Rejection]
    run_seed: int


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value))


def first_difference(a: Any, b: Any) -> tuple[str, Any, Any] | None:
    """The first place two JSON values differ: a dotted path (``""`` for the values
    themselves) and both values there; ``None`` when they are equal."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            if key not in a or key not in b:
                return str(key), a.get(key, "(missing)"), b.get(key, "(missing)")
            inner = first_difference(a[key], b[key])
            if inner is not None:
                path, x, y = inner
                return (f"{key}.{path}" if path else str(key)), x, y
        return None
    return None if _json(a) == _json(b) else ("", a, b)


def _identity(
    got: Evaluation, logged: Evaluation, base: Evaluator, run_seed: int
) -> tuple[str, str] | None:
    """The field and message when the logged network, seed, fidelity or id is not the env's."""
    if _json(got.genome) != _json(logged.genome):
        return "genome", f"is not the canonical genome {got.genome} the env evaluated"
    if _json(got.architecture) != _json(logged.architecture):
        try:
            own = base.key(
                EvalRequest(
                    Architecture.from_dict(logged.architecture), logged.seed, logged.fidelity
                )
            )
        except (TypeError, ValueError, KeyError):
            own = None
        if own == logged.evaluation_id:  # the line is self-consistent: its genome was changed
            network = Architecture.from_dict(got.architecture).hash[:12]
            return "genome", f"decodes to network {network}, not to the logged architecture"
        return "architecture", "is not the network the logged genome decodes to"
    if got.seed != logged.seed:
        return "seed", (
            f"training seed {logged.seed} is not the env's seed for this network in this run, "
            f"{got.seed} (run seed {run_seed}, from reset(seed=...) with the run's seed)"
        )
    if _json(got.fidelity) != _json(logged.fidelity):
        return "fidelity", f"logged {logged.fidelity}, the env's {got.fidelity}"
    if got.evaluation_id != logged.evaluation_id:
        return "evaluation_id", (
            f"logged {logged.evaluation_id}, but the content address of this network, seed, "
            f"fidelity and task is {got.evaluation_id}"
        )
    return None


def compare(
    got: Evaluation, logged: Evaluation, base: Evaluator, run_seed: int, source: str
) -> tuple[str, str] | None:
    """The first field where a recomputed evaluation and the logged one differ, and why.

    ``source`` names where the recomputed measurements came from (``"the table"``).
    """
    identity = _identity(got, logged, base, run_seed)
    if identity is not None:
        return identity
    for name in (*MEASURED, *DERIVED):
        found = first_difference(getattr(got, name), getattr(logged, name))
        if found is None:
            continue
        key, mine, theirs = found
        field = f"{name}.{key}" if key else name
        origin = source if name in MEASURED else "recomputed by the env"
        return field, f"logged {theirs!r}, {origin}: {mine!r}"
    return None


def recompute_run(
    env: Any, record: RunRecord, run: str, *, measured_from_log: bool, source: str
) -> Recomputed:
    """Check every evaluation of ``record`` by feeding its proposals to ``env``.

    Args:
        env: a fresh env of the track (``gym.make(track.env_id, **track.run_kwargs())``).
        record: the parsed run log.
        run: the run's name in rejections (its file name).
        measured_from_log: live tracks: serve the logged measurements instead of the env's
            evaluator (which would train).
        source: what the measurements are compared with, for messages.
    """
    core = framework.search_core(env)
    base: Evaluator = core.evaluator
    seed = int(record.header.get("seed", 0))
    env.reset(seed=seed)
    run_seed = int(core.run_seed)
    if measured_from_log:
        core.evaluator = LoggedEvaluator(base, record.evaluations)
    rejections: list[Rejection] = []
    checked: list[Evaluation] = []
    first: dict[str, int] = {}  # evaluation id -> index of its first line
    try:
        for i, logged in enumerate(record.evaluations):
            result = _check_line(core, base, logged, run_seed, source)
            if isinstance(result, Evaluation):
                earlier = first.setdefault(logged.evaluation_id, i)
                result = _repeats(record.evaluations[earlier], earlier + 2, logged) or result
            if isinstance(result, Rejection):
                rejections.append(Rejection(result.check, result.message, run, i + 2, result.field))
                break  # later lines depend on this one (budget, steps)
            checked.append(result)
        else:
            rejections += _check_end(core, record, checked, run)
    finally:
        core.evaluator = base
    return Recomputed(checked, rejections, run_seed)


def _repeats(first: Evaluation, line: int, logged: Evaluation) -> Rejection | None:
    """A network evaluated again in a run (same id) is answered from the evaluator's cache: its
    measurements must repeat the first line's."""
    for name in MEASURED:
        found = first_difference(getattr(logged, name), getattr(first, name))
        if found is not None:
            path, theirs, mine = found
            field = f"{name}.{path}" if path else name
            return Rejection(
                "evaluations",
                f"logged {theirs!r}, but the same evaluation logged {mine!r} at line {line}",
                field=field,
            )
    return None


def _check_line(
    core: SearchCore, base: Evaluator, logged: Evaluation, run_seed: int, source: str
) -> Evaluation | Rejection:
    if core.budget_exhausted:
        return Rejection(
            "budget",
            f"an evaluation after the budget was spent ({core.budget_used:g} of "
            f"{core.budget:g} {core.budget_kind} used before it)",
            field="step",
        )
    if logged.genome is None:
        return Rejection("evaluations", "missing: the env cannot re-run the line", field="genome")
    try:
        (got,) = core.evaluate([np.asarray(logged.genome)], logged.fidelity)
    except (ValueError, KeyError, IndexError) as exc:
        return Rejection("evaluations", f"the env refuses it: {exc}", field="genome")
    difference = compare(got, logged, base, run_seed, source)
    if difference is not None:
        field, message = difference
        check = "budget" if field == "spent" else "evaluations"
        return Rejection(check, message, field=field)
    return got


def _check_end(
    core: SearchCore, record: RunRecord, evaluations: list[Evaluation], run: str
) -> list[Rejection]:
    """The run spent its budget and its footer is the summary of its evaluations."""
    footer = record.footer or {}
    line = len(record.evaluations) + 2
    out = []
    if not core.budget_exhausted:
        out.append(
            Rejection(
                "budget",
                f"the run stopped with budget left ({core.budget_used:g} of {core.budget:g} "
                f"{core.budget_kind} spent): a ranked run spends its whole budget",
                run,
                line,
                "budget_used",
            )
        )
    used = footer.get("budget_used")
    if used is None or not np.isclose(float(used), float(core.budget_used), rtol=1e-12, atol=0):
        out.append(
            Rejection(
                "budget",
                f"logged {used!r}, the sum of the charges: {core.budget_used!r}",
                run,
                line,
                "footer.budget_used",
            )
        )
    expected = summarize(evaluations, core.reward.cost)
    for key in ("evaluations", "failed", "incumbent", "pareto_front"):
        found = first_difference(expected.get(key), footer.get(key))
        if found is not None:
            path, mine, theirs = found
            field = f"footer.{key}.{path}" if path else f"footer.{key}"
            message = f"logged {_short(theirs)}, the run's evaluations give {_short(mine)}"
            out.append(Rejection("footer", message, run, line, field))
    return out


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
