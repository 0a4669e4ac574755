"""Aggregate statistics over runs with confidence intervals (Agarwal et al., NeurIPS 2021).

The estimators and the protocol of "Deep Reinforcement Learning at the Edge of the Statistical
Precipice" (the ``rliable`` library's definitions), computed with SciPy:

- **scores** are one number per run and task: a 1-D array (runs of one task), a 2-D array
  ``(runs, tasks)``, or a list of 1-D arrays, one per task (tasks may have different run
  counts). Values must be finite; drop missing runs before calling.
- :func:`iqm`: the interquartile mean, the mean of the middle 50% of all runs of all tasks
  pooled (``scipy.stats.trim_mean(..., 0.25)``: with ``n`` values, ``floor(n / 4)`` are cut
  from each end). Robust to outlier runs, less noisy than the median.
- :func:`mean`: the mean over tasks of each task's mean over runs.
- :func:`summarize`: both, with intervals, for one task's runs (missing runs left out).
- :func:`interval`: a point estimate and its **stratified bootstrap** confidence interval:
  the runs of each task are resampled with replacement, independently per task (a task is a
  stratum; ``scipy.stats.bootstrap`` with one sample per task, ``paired=False``), the statistic
  is recomputed on each resample, and the interval is the percentile interval of those values
  (``method="percentile"``, as rliable).
- :func:`probability_of_improvement`: ``P(X > Y)``, the probability that a run of algorithm
  ``X`` scores higher than a run of ``Y`` on the same task, ties counting one half, averaged
  over tasks: the Mann-Whitney ``U`` statistic of each task divided by ``n_x * n_y``
  (``scipy.stats.mannwhitneyu``). :func:`improvement_interval` adds its stratified bootstrap
  interval (both algorithms' runs resampled per task).
- :func:`performance_profile`: the run-score distribution, the fraction of all runs whose
  score is above ``tau``, for each ``tau`` of a grid; :func:`profile_band` adds pointwise
  stratified bootstrap intervals.

Every bootstrap uses a generator seeded with ``seed`` (default 0), so the same scores always
give the same intervals. With a single run per task there is nothing to resample: the interval
bounds are ``None``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats as scipy_stats

#: Bootstrap resamples by default (rliable uses 2,000 for profiles; the intervals' Monte-Carlo
#: error is then well under their width for 10-20 runs).
RESAMPLES = 2000
#: Default confidence level.
CONFIDENCE = 0.95

Scores = Sequence[float] | np.ndarray | Sequence[Sequence[float] | np.ndarray]


def strata(scores: Scores) -> list[np.ndarray]:
    """The per-task score arrays of ``scores`` (see the module docstring).

    Raises:
        ValueError: for no scores, a task without runs, a non-finite value or more than two
            dimensions.
    """
    if isinstance(scores, np.ndarray) and scores.ndim == 2:
        columns = [scores[:, m] for m in range(scores.shape[1])]
    elif isinstance(scores, np.ndarray) or (
        len(scores) > 0 and all(np.ndim(s) == 0 for s in scores)
    ):
        columns = [np.asarray(scores, dtype=float)]
    else:
        columns = [np.asarray(s, dtype=float) for s in scores]
    if not columns:
        raise ValueError("scores must hold at least one task")
    out = []
    for m, column in enumerate(columns):
        column = np.asarray(column, dtype=float)
        if column.ndim != 1 or column.size == 0:
            raise ValueError(f"scores of task {m} must be a non-empty 1-D array of runs")
        if not np.all(np.isfinite(column)):
            raise ValueError(f"scores of task {m} must be finite (drop missing runs first)")
        out.append(column)
    return out


# ------------------------------------------------------------------------------ estimators
def _iqm(*samples: np.ndarray, axis: int = -1) -> Any:
    pooled = np.concatenate([np.moveaxis(s, axis, -1) for s in samples], axis=-1)
    return scipy_stats.trim_mean(pooled, 0.25, axis=-1)


def _mean(*samples: np.ndarray, axis: int = -1) -> Any:
    return np.mean([np.mean(s, axis=axis) for s in samples], axis=0)


def iqm(scores: Scores) -> float:
    """Interquartile mean of all runs of all tasks (25% trimmed from each end)."""
    return float(_iqm(*strata(scores)))


def mean(scores: Scores) -> float:
    """Mean over tasks of the mean over runs."""
    return float(_mean(*strata(scores)))


#: Aggregate statistics by name.
AGGREGATES: dict[str, Callable[..., Any]] = {"iqm": _iqm, "mean": _mean}


@dataclass(frozen=True)
class Interval:
    """A point estimate and its confidence interval.

    Attributes:
        estimate: the statistic on the observed scores (``None`` without scores).
        low: lower bound (``None`` when it cannot be computed, e.g. one run per task).
        high: upper bound.
        n: number of runs the estimate is over (all tasks).
        confidence: the interval's confidence level.
    """

    estimate: float | None
    low: float | None
    high: float | None
    n: int
    confidence: float = CONFIDENCE

    def to_dict(self) -> dict[str, float | int | None]:
        """JSON form."""
        return {
            "estimate": self.estimate,
            "low": self.low,
            "high": self.high,
            "n": self.n,
            "confidence": self.confidence,
        }

    def format(self, digits: int = 4) -> str:
        """``"0.8123 [0.8010, 0.8190]"``, the estimate alone without bounds, ``"-"`` without
        an estimate."""
        if self.estimate is None:
            return "-"
        if self.low is None or self.high is None:
            return f"{self.estimate:.{digits}f}"
        return f"{self.estimate:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}]"

    def overlaps(self, other: Interval) -> bool:
        """True when the two intervals share a point (or either has no bounds): a tie."""
        if self.low is None or self.high is None or other.low is None or other.high is None:
            return True
        return self.low <= other.high and other.low <= self.high


def _bootstrap(
    samples: list[np.ndarray],
    statistic: Callable[..., Any],
    confidence: float,
    resamples: int,
    seed: int,
) -> tuple[Any, Any]:
    """Percentile stratified bootstrap bounds of ``statistic`` over ``samples``."""
    result = scipy_stats.bootstrap(
        tuple(samples),
        statistic,
        n_resamples=resamples,
        confidence_level=confidence,
        method="percentile",
        paired=False,
        vectorized=True,
        rng=np.random.default_rng(seed),
    )
    return result.confidence_interval.low, result.confidence_interval.high


def _check_settings(confidence: float, resamples: int) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1); got {confidence!r}")
    if isinstance(resamples, bool) or not isinstance(resamples, int) or resamples < 1:
        raise ValueError(f"resamples must be a positive integer; got {resamples!r}")


def interval(
    scores: Scores,
    statistic: str = "iqm",
    *,
    confidence: float = CONFIDENCE,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> Interval:
    """``statistic`` (``"iqm"`` or ``"mean"``) of ``scores`` with its stratified bootstrap
    percentile interval.

    Raises:
        ValueError: for an unknown statistic, bad scores or settings.
    """
    if statistic not in AGGREGATES:
        raise ValueError(f"statistic must be one of {sorted(AGGREGATES)}; got {statistic!r}")
    _check_settings(confidence, resamples)
    samples = strata(scores)
    function = AGGREGATES[statistic]
    estimate = float(function(*samples))
    n = sum(len(s) for s in samples)
    if min(len(s) for s in samples) < 2:
        return Interval(estimate, None, None, n, confidence)
    low, high = _bootstrap(samples, function, confidence, resamples, seed)
    return Interval(estimate, float(low), float(high), n, confidence)


# --------------------------------------------------------------- probability of improvement
def _improvement(*samples: np.ndarray, axis: int = -1) -> Any:
    half = len(samples) // 2
    values = []
    for x, y in zip(samples[:half], samples[half:]):
        u = scipy_stats.mannwhitneyu(x, y, axis=axis, method="asymptotic").statistic
        values.append(u / (x.shape[axis] * y.shape[axis]))
    return np.mean(values, axis=0)


def _paired_strata(x: Scores, y: Scores) -> tuple[list[np.ndarray], list[np.ndarray]]:
    xs, ys = strata(x), strata(y)
    if len(xs) != len(ys):
        raise ValueError(f"x and y must have the same tasks; got {len(xs)} and {len(ys)}")
    return xs, ys


def probability_of_improvement(x: Scores, y: Scores) -> float:
    """``P(X > Y)``: the chance that a run of ``x`` beats a run of ``y`` on the same task
    (ties count one half), averaged over tasks.

    Raises:
        ValueError: for bad scores or different task counts.
    """
    xs, ys = _paired_strata(x, y)
    return float(_improvement(*xs, *ys))


def improvement_interval(
    x: Scores,
    y: Scores,
    *,
    confidence: float = CONFIDENCE,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> Interval:
    """:func:`probability_of_improvement` with its stratified bootstrap percentile interval
    (``n`` counts the runs of both)."""
    _check_settings(confidence, resamples)
    xs, ys = _paired_strata(x, y)
    estimate = float(_improvement(*xs, *ys))
    n = sum(len(s) for s in xs + ys)
    if min(len(s) for s in xs + ys) < 2:
        return Interval(estimate, None, None, n, confidence)
    low, high = _bootstrap(xs + ys, _improvement, confidence, resamples, seed)
    return Interval(estimate, float(low), float(high), n, confidence)


# -------------------------------------------------------------------- performance profiles
def _profile(taus: np.ndarray) -> Callable[..., Any]:
    def fraction_above(*samples: np.ndarray, axis: int = -1) -> Any:
        pooled = np.concatenate([np.moveaxis(s, axis, -1) for s in samples], axis=-1)
        above = (pooled[..., None, :] > taus[:, None]).mean(axis=-1)  # (..., taus)
        return np.moveaxis(above, -1, 0)  # scipy: the statistic's outputs come first

    return fraction_above


def performance_profile(scores: Scores, taus: Sequence[float] | np.ndarray) -> np.ndarray:
    """The fraction of all runs (all tasks pooled) whose score is above each ``tau``."""
    grid = np.asarray(taus, dtype=float)
    return np.asarray(_profile(grid)(*strata(scores)), dtype=float)


@dataclass(frozen=True)
class ProfileBand:
    """A performance profile with pointwise confidence bounds (``None`` with one run)."""

    taus: np.ndarray
    profile: np.ndarray
    low: np.ndarray | None
    high: np.ndarray | None

    def to_dict(self) -> dict[str, list[float] | None]:
        """JSON form (lists of floats)."""

        def listed(a: np.ndarray | None) -> list[float] | None:
            return None if a is None else [float(v) for v in a]

        return {
            "taus": listed(self.taus),
            "profile": listed(self.profile),
            "low": listed(self.low),
            "high": listed(self.high),
        }


def profile_band(
    scores: Scores,
    taus: Sequence[float] | np.ndarray,
    *,
    confidence: float = CONFIDENCE,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> ProfileBand:
    """:func:`performance_profile` with pointwise stratified bootstrap percentile bounds."""
    _check_settings(confidence, resamples)
    grid = np.asarray(taus, dtype=float)
    samples = strata(scores)
    profile = np.asarray(_profile(grid)(*samples), dtype=float)
    if min(len(s) for s in samples) < 2:
        return ProfileBand(grid, profile, None, None)
    low, high = _bootstrap(samples, _profile(grid), confidence, resamples, seed)
    return ProfileBand(grid, profile, np.asarray(low, dtype=float), np.asarray(high, dtype=float))


def tau_grid(*score_sets: Scores, points: int = 101) -> np.ndarray:
    """``points`` thresholds evenly spaced from the lowest to the highest score of all sets
    (one shared grid, so that several algorithms' profiles are comparable)."""
    values = np.concatenate([np.concatenate(strata(s)) for s in score_sets])
    low, high = float(values.min()), float(values.max())
    if math.isclose(low, high):
        low, high = low - 0.5, high + 0.5
    return np.linspace(low, high, points)


@dataclass(frozen=True)
class Summary:
    """IQM and mean of one quantity over runs, each with its confidence interval."""

    iqm: Interval
    mean: Interval

    def to_dict(self) -> dict[str, dict[str, float | int | None]]:
        """JSON form."""
        return {"iqm": self.iqm.to_dict(), "mean": self.mean.to_dict()}


def summarize(
    values: Sequence[float | None],
    *,
    confidence: float = CONFIDENCE,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> Summary:
    """IQM and mean (with intervals) of one task's runs; missing (``None``) and non-finite
    values are left out, and no values at all give estimates of ``None``."""
    kept = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    if not kept:
        empty = Interval(None, None, None, 0, confidence)
        return Summary(empty, empty)
    return Summary(
        interval(kept, "iqm", confidence=confidence, resamples=resamples, seed=seed),
        interval(kept, "mean", confidence=confidence, resamples=resamples, seed=seed),
    )
