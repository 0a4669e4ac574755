"""The Digits task: scikit-learn's 8x8 handwritten digits, offline and hash-pinned."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.datasets import load_digits

from darwin_bench.tasks.classification import ClassificationTask, stratified_splits
from darwin_bench.training import TrainConfig

VAL_FRACTION = 0.2
TEST_FRACTION = 0.2


def digits_splits(image: bool = False) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """Return the fixed stratified (train, val, test) splits: 60/20/20 of the 1,797 digits.

    Args:
        image: return inputs as ``(N, 1, 8, 8)`` images instead of 64-vectors.
    """
    data = load_digits()
    x = (data.data / 16.0).astype(np.float32)
    return fixed_splits(x, data.target.astype(np.int64), side=8, image=image)


def fixed_splits(
    x: np.ndarray, y: np.ndarray, *, side: int, image: bool
) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """The fixed stratified 60/20/20 (train, val, test) split of flat square-image inputs
    (Digits, MNIST-5k); with ``image``, inputs come back as ``(N, 1, side, side)`` images."""
    splits = stratified_splits(x, y, VAL_FRACTION, TEST_FRACTION)
    if image:
        return tuple((xs.reshape(-1, 1, side, side), ys) for xs, ys in splits)
    return splits


class DigitsTask(ClassificationTask):
    """Digits classification (10 classes) with a fixed 60/20/20 stratified split.

    Args:
        image: feed ``(1, 8, 8)`` images (for the ``cnn`` space) instead of flat 64-vectors.
        epochs: default training epochs.
        lr: Adam learning rate.
        batch_size: minibatch size.
    """

    def __init__(
        self,
        *,
        image: bool = False,
        epochs: int = 20,
        lr: float = 3e-3,
        batch_size: int = 64,
        **kwargs: Any,
    ) -> None:
        train, val, test = digits_splits(image=image)
        super().__init__(
            "digits",
            train,
            val,
            test,
            num_classes=10,
            train_config=TrainConfig(lr=lr, batch_size=batch_size),
            epochs=epochs,
            default_targets={"flops": 2e4, "params": 1e4, "synapses": 1e4, "latency_ms": 0.0054},
            **kwargs,
        )
