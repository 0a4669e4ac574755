"""Tests for darwin_bench.metrics.saliency with hand-computed examples."""

from __future__ import annotations

import math

import numpy as np
import pytest

from darwin_bench.metrics.saliency import f_beta, f_beta_per_image, mae


def _fb(p: float, r: float, beta2: float = 0.3) -> float:
    return (1 + beta2) * p * r / (beta2 * p + r)


def test_perfect_prediction_scores_one() -> None:
    mask = np.zeros((2, 1, 4, 4), dtype=np.float32)
    mask[0, 0, :2, :2] = 1
    mask[1, 0, 3, :] = 1
    assert f_beta(mask, mask) == pytest.approx(1.0)
    assert mae(mask, mask) == 0.0


def test_adaptive_threshold_hand_computed() -> None:
    # 2×2 image. mean = (0.8 + 0.6 + 0.2 + 0.0) / 4 = 0.4 -> threshold 0.8.
    # Binarised: only the 0.8 pixel. Mask: the 0.8 and 0.6 pixels.
    # TP = 1, predicted = 1, actual = 2 -> P = 1, R = 0.5.
    pred = np.array([[[0.8, 0.6], [0.2, 0.0]]])
    mask = np.array([[[1, 1], [0, 0]]])
    expected = 1.3 * 1.0 * 0.5 / (0.3 * 1.0 + 0.5)  # = 0.8125
    assert f_beta(pred, mask) == pytest.approx(expected)
    assert expected == pytest.approx(0.8125)
    # MAE = (0.2 + 0.4 + 0.2 + 0.0) / 4
    assert mae(pred, mask) == pytest.approx(0.2)


def test_threshold_is_capped_at_one() -> None:
    # mean = 0.75 -> 2·mean = 1.5, capped at 1: only pixels equal to 1 are predicted salient.
    pred = np.array([[[1.0, 1.0], [1.0, 0.0]]])
    mask = np.array([[[1, 0], [0, 0]]])
    # TP = 1, predicted = 3, actual = 1 -> P = 1/3, R = 1.
    assert f_beta(pred, mask) == pytest.approx(_fb(1 / 3, 1.0))


def test_averaged_per_image_not_pooled() -> None:
    # Image A: 1×4, pred [1, 0, 0, 0], mask [1, 0, 0, 0] -> F = 1.
    # Image B: 1×4, pred [1, 0, 0, 0], mask [0, 1, 1, 1] -> TP = 0 -> F = 0.
    pred = np.array([[[1.0, 0, 0, 0]], [[1.0, 0, 0, 0]]])
    mask = np.array([[[1, 0, 0, 0]], [[0, 1, 1, 1]]])
    per_image = f_beta_per_image(pred, mask)
    np.testing.assert_allclose(per_image, [1.0, 0.0])
    assert f_beta(pred, mask) == pytest.approx(0.5)
    # Pooling pixels would give P = 1/2, R = 1/4, F = 0.406..., which we do not report.
    assert f_beta(pred, mask) != pytest.approx(_fb(0.5, 0.25))


def test_beta2_changes_the_weighting() -> None:
    pred = np.array([[[0.8, 0.6], [0.2, 0.0]]])
    mask = np.array([[[1, 1], [0, 0]]])
    # P = 1, R = 0.5; β² = 1 gives the F1 score 2/3.
    assert f_beta(pred, mask, beta2=1.0) == pytest.approx(2 / 3)


def test_empty_mask_and_zero_prediction_do_not_give_nan() -> None:
    empty = np.zeros((1, 1, 3, 3))
    pred = np.full((1, 1, 3, 3), 0.5)
    assert f_beta(pred, empty) == 0.0
    assert mae(pred, empty) == pytest.approx(0.5)
    # All-zero prediction: threshold 0, every pixel is >= 0 and counts as salient.
    mask = np.zeros((1, 1, 3, 3))
    mask[0, 0, 1, 1] = 1
    zero = np.zeros_like(mask)
    assert f_beta(zero, mask) == pytest.approx(_fb(1 / 9, 1.0))
    # Both empty: no true positive -> 0, finite.
    score = f_beta(np.zeros((2, 3, 3)), np.zeros((2, 3, 3)))
    assert score == 0.0 and math.isfinite(score)


def test_shapes_nchw_nhw_and_hw_agree() -> None:
    rng = np.random.default_rng(0)
    pred = rng.uniform(size=(3, 1, 5, 6))
    mask = (rng.uniform(size=(3, 1, 5, 6)) > 0.6).astype(np.float32)
    assert f_beta(pred, mask) == pytest.approx(f_beta(pred[:, 0], mask[:, 0]))
    assert mae(pred, mask) == pytest.approx(mae(pred[:, 0], mask[:, 0]))
    assert f_beta(pred[0, 0], mask[0, 0]) == pytest.approx(f_beta_per_image(pred, mask)[0])


def test_mismatched_shapes_name_both() -> None:
    with pytest.raises(ValueError, match=r"\(2, 1, 4, 4\).*\(2, 4, 4\)"):
        f_beta(np.zeros((2, 1, 4, 4)), np.zeros((2, 4, 4)))
    with pytest.raises(ValueError, match=r"\(1, 3, 3\).*\(1, 3, 4\)"):
        mae(np.zeros((1, 3, 3)), np.zeros((1, 3, 4)))


@pytest.mark.parametrize(
    ("pred", "message"),
    [
        (np.full((1, 2, 2), 1.5), r"pred values must lie in \[0, 1\]"),
        (np.full((1, 2, 2), np.nan), "pred must be finite"),
        (np.zeros((1, 3, 2, 2)), "one channel"),
        (np.zeros((1, 1, 1, 2, 2)), "N×1×H×W"),
    ],
)
def test_bad_predictions_are_refused(pred: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        f_beta(pred, np.zeros_like(pred))


def test_bad_beta2_is_refused() -> None:
    with pytest.raises(ValueError, match="beta2 must be a positive"):
        f_beta(np.zeros((1, 2, 2)), np.zeros((1, 2, 2)), beta2=0.0)


def test_mask_is_binarised_at_half() -> None:
    # mean 0.25 -> threshold 0.5 -> binarised prediction [1, 0, 0, 0].
    pred = np.array([[[0.9, 0.1, 0.0, 0.0]]])
    soft = np.array([[[0.7, 0.4, 0.2, 0.5]]])  # -> [1, 0, 0, 0] (0.5 is not > 0.5)
    assert f_beta(pred, soft) == pytest.approx(1.0)
    assert mae(pred, soft) == pytest.approx((0.1 + 0.1) / 4)
