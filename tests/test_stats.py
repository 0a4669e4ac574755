"""darwin_bench.stats: hand-computed cases and an independent (loop) implementation."""

from __future__ import annotations

import numpy as np
import pytest

from darwin_bench import stats

X = [0.1, 0.5, 0.9, 0.3, 0.7, 0.2, 0.8, 0.4]
Y = [0.2, 0.4, 0.6, 0.8]


def test_hand_computed_point_estimates() -> None:
    # Sorted X: 0.1 0.2 | 0.3 0.4 0.5 0.7 | 0.8 0.9 -> floor(8/4) = 2 cut from each end.
    assert stats.iqm(X) == pytest.approx((0.3 + 0.4 + 0.5 + 0.7) / 4)
    assert stats.mean(X) == pytest.approx(3.9 / 8)
    # Pairs (x, y) with x > y, ties one half: y=0.2 -> 6 + 0.5, y=0.4 -> 4 + 0.5, y=0.6 -> 3,
    # y=0.8 -> 1 + 0.5; 15.5 of 32 pairs.
    assert stats.probability_of_improvement(X, Y) == pytest.approx(15.5 / 32)
    assert stats.probability_of_improvement(Y, X) == pytest.approx(1 - 15.5 / 32)
    assert stats.probability_of_improvement(X, X) == pytest.approx(0.5)
    # Runs above 0.1, 0.5, 0.9: 7, 3 and 0 of 8 ("above" is strict).
    assert stats.performance_profile(X, [0.1, 0.5, 0.9]).tolist() == [7 / 8, 3 / 8, 0.0]


def test_tasks_are_strata() -> None:
    two = np.array([[0.0, 10.0], [1.0, 20.0], [2.0, 30.0]])  # (runs, tasks)
    assert stats.mean(two) == pytest.approx((1.0 + 20.0) / 2)
    assert stats.mean([[0.0, 1.0, 2.0], [10.0, 20.0, 30.0, 40.0]]) == pytest.approx((1 + 25) / 2)
    # IQM pools every run of every task: 0 1 | 2 10 | 20 30 -> floor(6/4) = 1 cut: 2, 10, 20.
    assert stats.iqm(two) == pytest.approx((1.0 + 2.0 + 10.0 + 20.0) / 4)
    # Runs that are constant within each task: every stratified resample has the same mean,
    # so the interval is a point (an unstratified bootstrap would mix the tasks' run counts).
    constant = [[3.0] * 5, [7.0] * 5]
    bounds = stats.interval(constant, "mean")
    assert bounds.low == pytest.approx(5.0) and bounds.high == pytest.approx(5.0)


def _reference_bootstrap(samples, statistic, resamples, seed, confidence=0.95):
    """An independent percentile stratified bootstrap: a plain loop over resamples."""
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(resamples):
        drawn = [s[rng.integers(0, len(s), size=len(s))] for s in samples]
        values.append(statistic(drawn))
    alpha = (1 - confidence) / 2
    return np.quantile(values, alpha), np.quantile(values, 1 - alpha)


def _reference_iqm(drawn):
    pooled = np.sort(np.concatenate(drawn))
    cut = len(pooled) // 4
    return pooled[cut : len(pooled) - cut].mean()


def _reference_improvement(x_tasks, y_tasks):
    per_task = []
    for x, y in zip(x_tasks, y_tasks):
        wins = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a in x for b in y)
        per_task.append(wins / (len(x) * len(y)))
    return float(np.mean(per_task))


def test_intervals_agree_with_an_independent_implementation() -> None:
    rng = np.random.default_rng(7)
    tasks = [rng.uniform(0, 1, size=10), rng.uniform(0.5, 1.5, size=12)]
    others = [rng.uniform(0.1, 1.1, size=9), rng.uniform(0.4, 1.4, size=11)]
    ours = stats.interval(tasks, "iqm", resamples=20000, seed=1)
    low, high = _reference_bootstrap(tasks, _reference_iqm, 20000, seed=2)
    assert ours.estimate == pytest.approx(_reference_iqm(tasks))
    assert ours.low == pytest.approx(low, abs=0.015) and ours.high == pytest.approx(high, abs=0.015)

    ours = stats.interval(tasks, "mean", resamples=20000, seed=1)
    low, high = _reference_bootstrap(tasks, lambda d: np.mean([s.mean() for s in d]), 20000, 2)
    assert ours.low == pytest.approx(low, abs=0.01) and ours.high == pytest.approx(high, abs=0.01)

    ours = stats.improvement_interval(tasks, others, resamples=4000, seed=1)
    assert ours.estimate == pytest.approx(_reference_improvement(tasks, others))
    low, high = _reference_bootstrap(
        tasks + others, lambda d: _reference_improvement(d[:2], d[2:]), 4000, seed=2
    )
    assert ours.low == pytest.approx(low, abs=0.03) and ours.high == pytest.approx(high, abs=0.03)

    taus = stats.tau_grid(tasks, points=11)
    band = stats.profile_band(tasks, taus, resamples=4000, seed=1)
    pooled = np.concatenate(tasks)
    assert band.profile.tolist() == pytest.approx([(pooled > t).mean() for t in taus])
    at = 5  # the middle threshold
    low, high = _reference_bootstrap(
        tasks, lambda d: (np.concatenate(d) > taus[at]).mean(), 4000, seed=2
    )
    assert band.low is not None and band.high is not None
    assert band.low[at] == pytest.approx(low, abs=0.05)
    assert band.high[at] == pytest.approx(high, abs=0.05)


def test_same_seed_same_interval_and_one_run_has_no_bounds() -> None:
    assert stats.interval(X, seed=3) == stats.interval(X, seed=3)
    single = stats.interval([0.7])
    assert (single.estimate, single.low, single.high, single.n) == (0.7, None, None, 1)
    assert single.format() == "0.7000"
    assert stats.interval(X).format(2).count("[") == 1


def test_bad_input_names_the_field() -> None:
    with pytest.raises(ValueError, match="finite"):
        stats.iqm([0.1, float("nan")])
    with pytest.raises(ValueError, match="statistic must be one of"):
        stats.interval(X, "median")
    with pytest.raises(ValueError, match="confidence"):
        stats.interval(X, confidence=1.5)
    with pytest.raises(ValueError, match="same tasks"):
        stats.probability_of_improvement([[0.1, 0.2], [0.3, 0.4]], [0.1, 0.2])


def test_overlapping_intervals_are_ties() -> None:
    a = stats.Interval(0.5, 0.4, 0.6, 10)
    assert a.overlaps(stats.Interval(0.65, 0.55, 0.7, 10))
    assert not a.overlaps(stats.Interval(0.8, 0.7, 0.9, 10))
    assert a.overlaps(stats.Interval(0.8, None, None, 1))
