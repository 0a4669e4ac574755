"""Statistics for comparing search runs: best-so-far curves, their area, mean and standard error.

Definitions (used by ``darwin-bench compare`` and documented in ``docs/compare.md``):

- **best-so-far curve** of a run with budget ``B``: ``c[i]`` = the highest reward among
  evaluations ``0..i``, for ``i = 0..B-1``. Evaluations without a reward are skipped; before the
  first reward the curve is 0 (no network found yet). A run shorter than its budget is padded
  with its last value.
- **final best reward**: ``c[B-1]``.
- **area under the curve (AUC)**, normalized by the budget: ``sum(c) / B``, in the reward's
  units; 1 unit of reward held over the whole budget gives 1. It rewards finding good networks
  early (anytime performance), not only at the end.
- **standard error**: sample standard deviation (``ddof=1``) over seeds divided by
  ``sqrt(seeds)``; undefined (``None``) for a single seed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from darwin_bench.runlog import RunRecord


def best_so_far_curve(rewards: Sequence[float | None], budget: int) -> np.ndarray:
    """The best-so-far reward after each of ``budget`` evaluations (see the module docstring)."""
    values = np.array([np.nan if r is None else float(r) for r in rewards[:budget]], dtype=float)
    values = np.where(np.isfinite(values), values, -np.inf)
    curve = np.maximum.accumulate(values) if len(values) else np.zeros(0)
    curve = np.where(np.isfinite(curve), curve, 0.0)
    if len(curve) < budget:
        last = curve[-1] if len(curve) else 0.0
        curve = np.concatenate([curve, np.full(budget - len(curve), last)])
    return curve


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
    budget: int
    evaluations: int
    final_best: float
    auc: float
    test_accuracy: float | None
    curve: np.ndarray

    def to_dict(self) -> dict[str, object]:
        """JSON form (without the curve)."""
        return {
            "agent": self.agent,
            "seed": self.seed,
            "budget": self.budget,
            "evaluations": self.evaluations,
            "final_best_reward": self.final_best,
            "auc": self.auc,
            "test_accuracy": self.test_accuracy,
        }


def summarize_run(record: RunRecord) -> RunSummary:
    """Curve, final best reward, AUC and the incumbent's test accuracy of a finished run."""
    budget = int(record.header["budget"])
    curve = best_so_far_curve([e.reward for e in record.evaluations], budget)
    incumbent = (record.footer or {}).get("incumbent") or {}
    test = (incumbent.get("test_metrics") or {}).get("test_accuracy")
    return RunSummary(
        agent=str(record.header.get("agent", "?")),
        seed=int(record.header.get("seed", 0)),
        budget=budget,
        evaluations=len(record.evaluations),
        final_best=float(curve[-1]) if len(curve) else 0.0,
        auc=normalized_auc(curve),
        test_accuracy=None if test is None else float(test),
        curve=curve,
    )
