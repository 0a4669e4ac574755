"""Live tracks: retrain the incumbent and a random sample of each run, within a tolerance.

A live run's measurements (metrics, test metrics, costs) come from training on the
submitter's machine. The verifier trains again, with the logged network, seed and fidelity:
each run's incumbent (the network the entry is ranked by) and ``retrain.sample`` other
evaluations drawn at random (the draw's seed is recorded in the report, so a check can be
repeated; by default it is fresh randomness, so a submitter cannot know which lines are
drawn). Retrained values must agree with the logged ones within the track's tolerance
(:class:`leaderboard.tracks.Retrain`): metrics to ``atol + rtol * |logged|``, costs that
depend only on the network (exact and modeled) to ``cost_rtol``; measured costs (host
latency) are not compared. On the machine and software the run was made with, training is
deterministic and the values agree exactly; the tolerance is for other CPUs and library
versions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from darwin_bench.architecture import Architecture
from darwin_bench.costs import cost_kind
from darwin_bench.evaluation import EvalRequest, Evaluation, Evaluator
from darwin_bench.runlog import RunRecord
from leaderboard.report import Rejection
from leaderboard.tracks import Retrain


@dataclass
class Retrained:
    """What :func:`retrain_runs` found.

    Attributes:
        rejections: every value outside the tolerance (and every status that differs).
        checked: evaluations retrained.
        exact: how many of them agreed bit for bit on every compared value.
        deviation: largest absolute deviation seen, per metric name.
    """

    rejections: list[Rejection] = field(default_factory=list)
    checked: int = 0
    exact: int = 0
    deviation: dict[str, float] = field(default_factory=dict)

    def facts(self) -> dict[str, Any]:
        """JSON facts for the report."""
        return {
            "retrained": self.checked,
            "retrained_exact": self.exact,
            "max_deviation": {k: self.deviation[k] for k in sorted(self.deviation)},
        }


def pick(record: RunRecord, sample: int, rng: np.random.Generator) -> list[int]:
    """Indices to retrain in one run: its incumbent (the footer's step) and ``sample`` others
    drawn without replacement (sorted)."""
    n = len(record.evaluations)
    incumbent = (record.footer or {}).get("incumbent") or {}
    step = incumbent.get("step")
    chosen = {int(step)} if isinstance(step, int) and 0 <= step < n else set()
    others = [i for i in range(n) if i not in chosen]
    k = min(sample, len(others))
    if k:
        chosen.update(int(i) for i in rng.choice(others, size=k, replace=False))
    return sorted(chosen)


def _agrees(retrained: float, logged: float, atol: float, rtol: float) -> bool:
    if not (math.isfinite(retrained) and math.isfinite(logged)):
        return retrained == logged
    return abs(retrained - logged) <= atol + rtol * abs(logged)


def _compare(fresh: Evaluation, logged: Evaluation, tolerance: Retrain) -> list[tuple[str, str]]:
    """``(field, message)`` for every value of ``logged`` that ``fresh`` does not reproduce."""
    if fresh.status != logged.status:
        message = f"logged {logged.status!r}, retrained {fresh.status!r} ({fresh.reason})"
        return [("status", message)]
    out = []
    for name in ("metrics", "test_metrics"):
        mine, theirs = getattr(fresh, name), getattr(logged, name)
        for key in sorted(set(mine) | set(theirs)):
            if key not in mine or key not in theirs:
                out.append((f"{name}.{key}", "logged and retrained evaluations differ in keys"))
            elif not _agrees(mine[key], theirs[key], tolerance.atol, tolerance.rtol):
                out.append(
                    (
                        f"{name}.{key}",
                        f"logged {theirs[key]!r}, retrained {mine[key]!r} (tolerance "
                        f"{tolerance.atol:g} + {tolerance.rtol:g} x |logged|)",
                    )
                )
    for key in sorted(set(fresh.costs) | set(logged.costs)):
        if cost_kind(key) == "measured":
            continue
        if key not in fresh.costs or key not in logged.costs:
            out.append((f"costs.{key}", "logged and retrained evaluations differ in costs"))
        elif not _agrees(fresh.costs[key], logged.costs[key], 0.0, tolerance.cost_rtol):
            out.append(
                (f"costs.{key}", f"logged {logged.costs[key]!r}, measured {fresh.costs[key]!r}")
            )
    return out


def retrain_runs(
    runs: Sequence[tuple[str, RunRecord]],
    evaluator: Evaluator,
    tolerance: Retrain,
    rng: np.random.Generator,
) -> Retrained:
    """Retrain each run's incumbent and a random sample (one evaluator call, so networks the
    task batches train together) and compare with the logs.

    Args:
        runs: ``(name, record)`` of each run, already checked by
            :func:`leaderboard.recompute.recompute_run` (ids match their content).
        evaluator: the track env's own evaluator (it trains).
        tolerance: the track's tolerance.
        rng: draws the samples.
    """
    chosen: list[tuple[str, int, Evaluation]] = []
    for name, record in runs:
        chosen += [(name, i, record.evaluations[i]) for i in pick(record, tolerance.sample, rng)]
    requests = [
        EvalRequest(Architecture.from_dict(e.architecture), e.seed, e.fidelity, e.genome)
        for _, _, e in chosen
    ]
    fresh = evaluator.evaluate(requests)
    result = Retrained(checked=len(chosen))
    for (name, i, logged), again in zip(chosen, fresh):
        problems = _compare(again, logged, tolerance)
        for key in set(again.metrics) & set(logged.metrics):
            deviation = abs(again.metrics[key] - logged.metrics[key])
            result.deviation[key] = max(result.deviation.get(key, 0.0), deviation)
        for key in set(again.test_metrics) & set(logged.test_metrics):
            deviation = abs(again.test_metrics[key] - logged.test_metrics[key])
            result.deviation[key] = max(result.deviation.get(key, 0.0), deviation)
        same = all(
            getattr(again, f) == getattr(logged, f) for f in ("status", "metrics", "test_metrics")
        )
        result.exact += int(same)
        for field_name, message in problems:
            result.rejections.append(Rejection("retrain", message, name, i + 2, field_name))
    return result
