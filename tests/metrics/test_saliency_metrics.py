"""Tests for darwin_bench.metrics.saliency with hand-computed examples."""

from __future__ import annotations

import math

import numpy as np
import py_sod_metrics as sod
import pytest

from darwin_bench.metrics.saliency import f_beta, f_beta_per_image, mae, normalize_maps


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
    assert f_beta(pred, mask, normalize=False) == pytest.approx(expected)
    assert expected == pytest.approx(0.8125)
    # MAE = (0.2 + 0.4 + 0.2 + 0.0) / 4
    assert mae(pred, mask, normalize=False) == pytest.approx(0.2)
    # Normalised (the default): the map becomes [1, 0.75, 0.25, 0], mean 0.5 -> threshold 1:
    # the same single pixel, the same F; MAE = (0 + 0.25 + 0.25 + 0) / 4.
    assert f_beta(pred, mask) == pytest.approx(expected)
    assert mae(pred, mask) == pytest.approx(0.125)


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
    assert f_beta(pred, soft, normalize=False) == pytest.approx(1.0)
    assert mae(pred, soft, normalize=False) == pytest.approx((0.1 + 0.1) / 4)
    assert mae(pred, soft) == pytest.approx((1 / 9) / 4)  # normalised: [1, 1/9, 0, 0]


# --- per-map min-max normalisation (the default, as PySODMetrics) -----------------------------


def test_normalisation_changes_the_threshold_hand_computed() -> None:
    # Map [0.2, 0.4, 0.6, 0.6], mask [0, 0, 1, 0].
    # Normalised: [0, 0.5, 1, 1], mean 0.625 -> threshold 1 -> predicted {2, 3}:
    #   TP = 1, predicted = 2, actual = 1 -> P = 0.5, R = 1.
    # As given: mean 0.45 -> threshold 0.9 -> nothing predicted -> F = 0.
    pred = np.array([[[0.2, 0.4], [0.6, 0.6]]])
    mask = np.array([[[0, 0], [1, 0]]])
    assert f_beta(pred, mask) == pytest.approx(_fb(0.5, 1.0))
    assert _fb(0.5, 1.0) == pytest.approx(0.65 / 1.15)
    assert f_beta(pred, mask, normalize=False) == 0.0
    # MAE: normalised |0| + |0.5| + |0| + |1| = 1.5 / 4; as given 0.2 + 0.4 + 0.4 + 0.6 = 1.6 / 4.
    assert mae(pred, mask) == pytest.approx(0.375)
    assert mae(pred, mask, normalize=False) == pytest.approx(0.4)


def test_normalisation_is_per_map_and_leaves_constant_maps() -> None:
    rng = np.random.default_rng(1)
    mask = (rng.uniform(size=(3, 1, 6, 6)) > 0.7).astype(np.float32)
    pred = 0.6 * mask + 0.4 * rng.uniform(size=(3, 1, 6, 6))  # informative, not perfect
    squeezed = 0.2 + 0.5 * pred  # an increasing affine map of each image's scores
    squeezed[1] = 0.1 + 0.3 * pred[1]  # another one for image 1
    np.testing.assert_allclose(f_beta_per_image(squeezed, mask), f_beta_per_image(pred, mask))
    assert f_beta_per_image(squeezed, mask, normalize=False).tolist() != (
        f_beta_per_image(pred, mask, normalize=False).tolist()
    )
    constant = np.full((1, 1, 3, 3), 0.4)
    assert normalize_maps(constant.reshape(1, -1)).tolist() == constant.reshape(1, -1).tolist()
    assert mae(constant, np.zeros_like(constant)) == pytest.approx(0.4)


def _u8_case(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Maps as saved images (uint8) with a narrow range, and 0/255 masks, as SOD sets store them."""
    rng = np.random.default_rng(seed)
    maps = rng.integers(40, 200, size=(5, 12, 16)).astype(np.uint8)
    maps[0] = 128  # a constant map
    gts = np.where(rng.uniform(size=(5, 12, 16)) > 0.7, 255, 0).astype(np.uint8)
    gts[1] = 0  # an empty ground truth
    return maps, gts


@pytest.mark.filterwarnings("ignore:This class will be removed")  # Fmeasure, still current
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_agrees_with_pysodmetrics(seed: int) -> None:
    """Same inputs through the installed PySODMetrics: adaptive F-measure and MAE, both modes."""
    maps, gts = _u8_case(seed)
    default_fm, default_mae = sod.Fmeasure(), sod.MAE()
    raw_fm, raw_mae = sod.Fmeasure(), sod.MAE()
    for m, g in zip(maps, gts):
        default_fm.step(pred=m, gt=g)  # their default: /255, per-map min-max, gt > 128
        default_mae.step(pred=m, gt=g)
        raw_fm.step(pred=m / 255.0, gt=g > 128, normalize=False)
        raw_mae.step(pred=m / 255.0, gt=g > 128, normalize=False)
    pred, mask = maps / 255.0, gts / 255.0
    assert f_beta(pred, mask) == pytest.approx(default_fm.get_results()["fm"]["adp"], abs=1e-12)
    assert mae(pred, mask) == pytest.approx(default_mae.get_results()["mae"], abs=1e-12)
    assert f_beta(pred, mask, normalize=False) == pytest.approx(
        raw_fm.get_results()["fm"]["adp"], abs=1e-12
    )
    assert mae(pred, mask, normalize=False) == pytest.approx(
        raw_mae.get_results()["mae"], abs=1e-12
    )
    # The narrow-range maps make the two modes differ: the comparison is not vacuous.
    assert f_beta(pred, mask) != pytest.approx(f_beta(pred, mask, normalize=False))
