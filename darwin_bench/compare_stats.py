"""Statistics for comparing search runs: best-so-far curves, their area, mean and standard error.

Definitions (used by ``darwin-bench compare`` and documented in ``docs/compare.md``):

- **budget axis** of a run with budget ``B`` in its budget kind (:mod:`darwin_bench.budgets`):
  ``1, 2, ..., B`` under ``evaluations``; :data:`GRID_POINTS` evenly spaced points up to ``B``
  under ``train_flops`` and ``seconds``.
- **best-so-far curve**: at each point ``x`` of the axis, the highest reward among the
  evaluations *completed* by then (cumulative spend ``<= x``, from each evaluation's
  ``spent``; one unit each in logs without it). Evaluations without a reward are skipped;
  before the first reward the curve is 0 (no network found yet). An evaluation that overshoots
  the budget is therefore not on the curve. Under ``evaluations``, ``c[i]`` is the best of
  evaluations ``0..i``; a run shorter than its budget is padded with its last value.
- **final best reward**: the curve's last value (at ``x = B``).
- **area under the curve (AUC)**, normalized by the budget: the curve's mean over the axis, in
  the reward's units; 1 unit of reward held over the whole budget gives 1. It rewards finding
  good networks early (anytime performance), not only at the end.
- **standard error**: sample standard deviation (``ddof=1``) over seeds divided by
  ``sqrt(seeds)``; undefined (``None``) for a single seed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from darwin_bench.runlog import RunRecord

#: Points of the budget axis under the ``train_flops`` and ``seconds`` kinds.
GRID_POINTS = 200


def budget_axis(kind: str, budget: float) -> np.ndarray:
    """The points a best-so-far curve is read at (see the module docstring)."""
    if kind == "evaluations":
        return np.arange(1, int(budget) + 1, dtype=float)
    return np.linspace(budget / GRID_POINTS, budget, GRID_POINTS)


def cumulative_spend(spent: Sequence[float | None]) -> np.ndarray:
    """The run's spend after each evaluation (an evaluation without ``spent`` counts 1)."""
    return np.cumsum([1.0 if s is None else float(s) for s in spent])


def best_so_far_curve(
    rewards: Sequence[float | None],
    budget: float,
    spent: Sequence[float | None] | None = None,
    axis: np.ndarray | None = None,
) -> np.ndarray:
    """The best-so-far reward at each point of ``axis`` (default ``1..budget``; see the module
    docstring), each evaluation completing when the cumulative ``spent`` reaches it."""
    axis = budget_axis("evaluations", budget) if axis is None else axis
    values = np.array([np.nan if r is None else float(r) for r in rewards], dtype=float)
    values = np.where(np.isfinite(values), values, -np.inf)
    running = np.maximum.accumulate(values) if len(values) else np.zeros(0)
    cumulative = cumulative_spend(spent if spent is not None else [None] * len(values))
    completed = np.searchsorted(cumulative, axis, side="right")  # evaluations done by each x
    curve = np.concatenate([[0.0], running])[completed]  # 0 before the first evaluation
    return np.where(np.isfinite(curve), curve, 0.0)


def normalized_auc(curve: np.ndarray) -> float:
    """Area under a best-so-far curve divided by its length (the budget)."""
    return float(np.mean(curve)) if len(curve) else 0.0


@dataclass(frozen=True)
class MeanSE:
    """A mean over seeds and its standard error (``None`` when undefined)."""

    mean: float | None
    se: float | None
    n: int

    def to_dict(self) -> dict[str, float | int | None]:
        """JSON form."""
        return {"mean": self.mean, "se": self.se, "n": self.n}

    def format(self, digits: int = 4) -> str:
        """``"0.8123 ± 0.0042"``, or ``"-"`` without values."""
        if self.mean is None:
            return "-"
        if self.se is None:
            return f"{self.mean:.{digits}f}"
        return f"{self.mean:.{digits}f} ± {self.se:.{digits}f}"


def mean_se(values: Sequence[float | None]) -> MeanSE:
    """Mean and standard error of the finite values (missing and NaN values are skipped)."""
    finite = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    if not finite:
        return MeanSE(None, None, 0)
    mean = float(np.mean(finite))
    se = float(np.std(finite, ddof=1) / math.sqrt(len(finite))) if len(finite) > 1 else None
    return MeanSE(mean, se, len(finite))


def mean_ci(
    values: Sequence[float], *, confidence: float = 0.95, log: bool = False
) -> dict[str, float | int | None]:
    """Mean of ``values`` with a Student-t confidence interval over them (seeds).

    Args:
        values: one finite value per seed.
        confidence: coverage of the interval.
        log: for ratios: the interval of the mean of ``log(values)``, exponentiated, i.e. the
            geometric mean and its interval (a ratio of 2 and one of 1/2 average to 1).

    Returns:
        ``{"mean", "low", "high", "n"}``; ``low``/``high`` are ``None`` for fewer than 2 values.

    Raises:
        ValueError: for an empty list, a non-finite value, or (``log``) a value <= 0.
    """
    from scipy import stats

    data = np.asarray([float(v) for v in values], dtype=float)
    if data.size == 0 or not np.all(np.isfinite(data)) or (log and np.any(data <= 0)):
        raise ValueError(f"values must be finite{' and > 0' if log else ''}; got {list(values)}")
    x = np.log(data) if log else data
    mean = float(x.mean())
    low = high = None
    if x.size > 1:
        half = float(
            stats.t.ppf(0.5 + confidence / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)
        )
        low, high = mean - half, mean + half
    back = math.exp if log else float
    return {
        "mean": back(mean),
        "low": None if low is None else back(low),
        "high": None if high is None else back(high),
        "n": int(x.size),
    }


@dataclass(frozen=True)
class RunSummary:
    """The comparable numbers of one run."""

    agent: str
    seed: int
    budget: float
    evaluations: int
    final_best: float
    auc: float
    test_metric: float | None
    curve: np.ndarray
    budget_kind: str = "evaluations"
    axis: np.ndarray | None = None
    metric: str = "accuracy"

    def to_dict(self) -> dict[str, object]:
        """JSON form (without the curve)."""
        return {
            "agent": self.agent,
            "seed": self.seed,
            "budget": self.budget,
            "budget_kind": self.budget_kind,
            "evaluations": self.evaluations,
            "final_best_reward": self.final_best,
            "auc": self.auc,
            f"test_{self.metric}": self.test_metric,
        }


def run_metric(record: RunRecord) -> tuple[str, bool]:
    """The name of the task's metric of a run and whether higher is better (from the header;
    ``("accuracy", True)`` for logs that predate it)."""
    metric = record.header.get("metric") or {}
    return str(metric.get("name", "accuracy")), bool(metric.get("higher_is_better", True))


def run_budget(record: RunRecord) -> tuple[str, float]:
    """A run log's budget kind and amount (logs before budget kinds counted evaluations)."""
    header = record.header
    kind = header.get("budget_kind") or header.get("env_kwargs", {}).get("budget_kind")
    return str(kind or "evaluations"), float(header["budget"])


def summarize_run(record: RunRecord) -> RunSummary:
    """Curve, final best reward, AUC and the test metric (``test_<metric>``, e.g.
    ``test_accuracy``) of the best network completed within the budget (an overshooting last
    evaluation does not count)."""
    kind, budget = run_budget(record)
    metric, _ = run_metric(record)
    axis = budget_axis(kind, budget)
    evaluations = record.evaluations
    rewards = [e.reward for e in evaluations]
    spent = [e.spent for e in evaluations]
    curve = best_so_far_curve(rewards, budget, spent, axis)
    within = int(np.searchsorted(cumulative_spend(spent), budget, side="right"))
    ranked = [(e.reward, -i) for i, e in enumerate(evaluations[:within]) if e.reward is not None]
    test = None
    if ranked:
        best = evaluations[-max(ranked)[1]]
        test = best.test_metrics.get(f"test_{metric}")
    return RunSummary(
        agent=str(record.header.get("agent", "?")),
        seed=int(record.header.get("seed", 0)),
        budget=budget,
        evaluations=len(evaluations),
        final_best=float(curve[-1]) if len(curve) else 0.0,
        auc=normalized_auc(curve),
        test_metric=None if test is None else float(test),
        curve=curve,
        budget_kind=kind,
        axis=axis,
        metric=metric,
    )
