"""The exact 2-D hypervolume agrees with Optuna's on random point sets."""

from __future__ import annotations

import numpy as np
import pytest

from leaderboard.hypervolume import hypervolume_2d, normalized_hypervolume
from leaderboard.tracks import Hypervolume


def test_known_cases() -> None:
    assert hypervolume_2d([], (1, 1)) == 0.0
    assert hypervolume_2d([(0.0, 0.0)], (1, 1)) == 1.0
    assert hypervolume_2d([(0.5, 0.5)], (1, 1)) == 0.25
    # two points of a staircase: 0.5 x 0.9 + 0.5 x 0.4 = 0.65 (a dominated one adds nothing)
    assert hypervolume_2d([(0.0, 0.6), (0.5, 0.1), (0.6, 0.7)], (1, 1)) == pytest.approx(0.65)
    assert hypervolume_2d([(1.0, 0.0), (0.0, 1.0), (2.0, -1.0)], (1, 1)) == 0.0  # on the bound


@pytest.mark.parametrize("seed", range(20))
def test_agrees_with_optuna(seed: int) -> None:
    optuna_hv = pytest.importorskip("optuna._hypervolume").compute_hypervolume
    rng = np.random.default_rng(seed)
    points = rng.uniform(0, 1.2, size=(int(rng.integers(1, 60)), 2))
    reference = np.array([1.0, 1.1])
    inside = points[(points < reference).all(axis=1)]
    expected = optuna_hv(inside, reference) if len(inside) else 0.0
    mine = hypervolume_2d([tuple(p) for p in points], (1.0, 1.1))
    assert mine == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_normalized_maps_score_up_and_cost_down() -> None:
    settings = Hypervolume(cost="params", score_ref=0.5, score_best=1.0, cost_ref=1000.0)
    assert normalized_hypervolume([(1.0, 0.0)], settings) == 1.0
    assert normalized_hypervolume([(0.75, 500.0)], settings) == 0.25
    assert normalized_hypervolume([(0.4, 10.0), (0.9, 2000.0)], settings) == 0.0
