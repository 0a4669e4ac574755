"""Salient-object-detection metrics: adaptive-threshold F-beta and MAE.

Conventions (those of the common salient-object benchmarks):

* **Adaptive threshold** (Achanta, Hemami, Estrada, Süsstrunk, "Frequency-tuned salient region
  detection", CVPR 2009): each saliency map is binarised at ``T = min(2 · mean(map), 1)``;
  a pixel is predicted salient when ``map >= T``.
* **β² = 0.3**, weighting precision over recall (same paper; used by MSRA-B / ECSSD / DUTS
  benchmarks and by seed paper 000).
* **Per-image averaging**: precision, recall and F-beta are computed per image and the F-beta
  values are averaged over images (the "adaptive F-measure" of the common salient-object
  evaluation code, e.g. PySODMetrics' ``Fmeasure`` ``adp`` result). Pixels are not pooled over
  images.
* An image whose binarised prediction has no true positive (including an empty ground-truth mask)
  scores F = 0, never NaN (same convention).
* **MAE** (Perazzi, Krähenbühl, Pritch, Hornung, "Saliency filters", CVPR 2012): mean absolute
  difference between the map and the binary mask, per image, averaged over images.
* **Per-map min-max normalisation** (default, ``normalize=True``): before thresholding, each map
  is rescaled to ``(map - min) / (max - min)``; a constant map is left as it is. This is what
  PySODMetrics does by default (its ``prepare_data``, after the MATLAB evaluation code's
  ``mapminmax``), so F-beta and MAE are comparable with published numbers. It makes the
  scores invariant to any increasing affine rescaling of a map. ``normalize=False`` uses the
  maps as given (PySODMetrics' ``normalize=False``).

Inputs are arrays of shape ``N×1×H×W`` or ``N×H×W`` (a single ``H×W`` map is also accepted).
Predictions must be finite and in ``[0, 1]``; masks are binarised at 0.5.
"""

from __future__ import annotations

import numpy as np

__all__ = ["f_beta", "f_beta_per_image", "mae", "normalize_maps"]


def _as_batch(array: np.ndarray, field: str) -> np.ndarray:
    """Return ``array`` as float64 ``N×(H·W)``."""
    arr = np.asarray(array)
    if arr.ndim == 4:
        if arr.shape[1] != 1:
            raise ValueError(f"{field} must have one channel (N×1×H×W), got shape {arr.shape}")
        arr = arr[:, 0]
    elif arr.ndim == 2:
        arr = arr[None]
    elif arr.ndim != 3:
        raise ValueError(f"{field} must be N×1×H×W, N×H×W or H×W, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{field} must not be empty, got shape {arr.shape}")
    out = arr.reshape(arr.shape[0], -1).astype(np.float64)
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{field} must be finite (found NaN or inf)")
    return out


def normalize_maps(maps: np.ndarray) -> np.ndarray:
    """Min-max normalise each row of ``maps`` (one flattened map per row) to ``[0, 1]``.

    A constant row (max = min) is returned unchanged, as PySODMetrics does.
    """
    low = maps.min(axis=1, keepdims=True)
    span = maps.max(axis=1, keepdims=True) - low
    flat = span == 0
    out: np.ndarray = np.where(flat, maps, (maps - low) / np.where(flat, 1.0, span))
    return out


def _prepare(pred: np.ndarray, mask: np.ndarray, normalize: bool) -> tuple[np.ndarray, np.ndarray]:
    pred_shape, mask_shape = np.shape(pred), np.shape(mask)
    if pred_shape != mask_shape:
        raise ValueError(f"pred shape {pred_shape} does not match mask shape {mask_shape}")
    p = _as_batch(pred, "pred")
    if p.min() < 0.0 or p.max() > 1.0:
        raise ValueError(f"pred values must lie in [0, 1], got [{p.min():.4g}, {p.max():.4g}]")
    m = _as_batch(mask, "mask") > 0.5
    return (normalize_maps(p) if normalize else p), m


def f_beta_per_image(
    pred: np.ndarray, mask: np.ndarray, beta2: float = 0.3, *, normalize: bool = True
) -> np.ndarray:
    """Adaptive-threshold F-beta of every image.

    Args:
        pred: Saliency maps in ``[0, 1]``, ``N×1×H×W`` or ``N×H×W``.
        mask: Ground truth of the same shape (binarised at 0.5).
        beta2: β², > 0.
        normalize: min-max normalise each map first (the default; see the module docstring).

    Returns:
        float64 array of length N.

    Raises:
        ValueError: Mismatched shapes, bad values, or ``beta2 <= 0``.
    """
    if not (np.isfinite(beta2) and beta2 > 0):
        raise ValueError(f"beta2 must be a positive finite number, got {beta2!r}")
    p, m = _prepare(pred, mask, normalize)
    thresholds = np.minimum(2.0 * p.mean(axis=1, keepdims=True), 1.0)
    binary = p >= thresholds
    tp = np.count_nonzero(binary & m, axis=1).astype(np.float64)
    predicted = np.count_nonzero(binary, axis=1).astype(np.float64)
    actual = np.count_nonzero(m, axis=1).astype(np.float64)
    scores = np.zeros(p.shape[0], dtype=np.float64)
    ok = tp > 0  # implies predicted > 0 and actual > 0
    precision = tp[ok] / predicted[ok]
    recall = tp[ok] / actual[ok]
    scores[ok] = (1.0 + beta2) * precision * recall / (beta2 * precision + recall)
    return scores


def f_beta(
    pred: np.ndarray, mask: np.ndarray, beta2: float = 0.3, *, normalize: bool = True
) -> float:
    """Mean over images of the adaptive-threshold F-beta (see the module docstring).

    Per image: min-max normalise the map (unless ``normalize=False``), threshold
    ``T = min(2·mean(pred), 1)``, binarise ``pred >= T``, then ``F = (1 + β²)·P·R / (β²·P + R)``;
    images with no true positive score 0. Follows Achanta et al. (CVPR 2009) for the threshold
    and β² = 0.3, and PySODMetrics' adaptive F-measure (``Fmeasure``, ``adp``) for the rest.

    Args:
        pred: Saliency maps in ``[0, 1]``, ``N×1×H×W`` or ``N×H×W``.
        mask: Ground-truth masks of the same shape (binarised at 0.5).
        beta2: β² (default 0.3).
        normalize: min-max normalise each map first (default True).

    Returns:
        Mean F-beta in ``[0, 1]``.
    """
    return float(f_beta_per_image(pred, mask, beta2, normalize=normalize).mean())


def mae(pred: np.ndarray, mask: np.ndarray, *, normalize: bool = True) -> float:
    """Mean absolute error between saliency maps and binary masks.

    Per-image MAE averaged over images (equal to the pooled pixel mean, as all images share a
    size), on min-max normalised maps unless ``normalize=False`` (as PySODMetrics' ``MAE``).

    Args:
        pred: Saliency maps in ``[0, 1]``, ``N×1×H×W`` or ``N×H×W``.
        mask: Ground-truth masks of the same shape (binarised at 0.5).
        normalize: min-max normalise each map first (default True).

    Returns:
        MAE in ``[0, 1]``.
    """
    p, m = _prepare(pred, mask, normalize)
    return float(np.abs(p - m).mean(axis=1).mean())
