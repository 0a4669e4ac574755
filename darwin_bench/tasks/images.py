"""MNIST, Fashion-MNIST and CIFAR-10 classification tasks.

Data come from :func:`darwin_bench.data.images.load_image_dataset` (checksummed downloads into
the cache; a clear :class:`~darwin_bench.data.download.DatasetUnavailableError` offline). The
task fixes everything a result depends on:

* a validation split carved from the official training set (stratified, fixed seed); the
  official test set is held out for reporting (``test_accuracy``);
* per-channel normalization with the mean and standard deviation of the training split;
* images as ``(C, H, W)`` float32 (the ``cnn`` space uses them as is, the ``mlp`` space
  flattens them);
* a fixed order of the training examples, so the ``train_size`` fidelity (the first
  ``train_size`` of them) is the same subset in every run.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.model_selection import train_test_split

from darwin_bench.data.download import DatasetUnavailableError, cache_dir
from darwin_bench.data.images import ImageDataset, load_image_dataset
from darwin_bench.seeding import SPLIT_SEED
from darwin_bench.tasks.classification import ClassificationTask
from darwin_bench.training import TrainConfig, evaluate_classifier
from darwin_bench.validation import check_choice, check_positive_int

#: Examples scored per forward pass when evaluating a split.
EVAL_BATCH = 2048

#: Per dataset: validation examples carved from the training set, default training subset,
#: default epochs, and reward targets for a network of sensible size.
DEFAULTS: dict[str, dict[str, Any]] = {
    "mnist": {"val_size": 5000, "train_size": 10000, "epochs": 2},
    "fashion-mnist": {"val_size": 5000, "train_size": 10000, "epochs": 2},
    "cifar10": {"val_size": 5000, "train_size": 5000, "epochs": 2},
}
#: Reward targets per cost and dataset; ``latency_ms``: the median ONNX Runtime latency of
#: random networks (perf latency-targets, docs/costs.md).
TARGETS: dict[str, dict[str, float]] = {
    "mnist": {"flops": 2e5, "params": 1e5, "synapses": 1e5, "latency_ms": 0.026},
    "fashion-mnist": {"flops": 2e5, "params": 1e5, "synapses": 1e5, "latency_ms": 0.026},
    "cifar10": {"flops": 5e6, "params": 2e5, "synapses": 2e5, "latency_ms": 0.069},
}


def to_chw(images: np.ndarray) -> np.ndarray:
    """``N×H×W`` (grey) or ``N×H×W×C`` (colour) uint8 -> ``N×C×H×W``."""
    if images.ndim == 3:
        return images[:, None]
    return images.transpose(0, 3, 1, 2)


def image_splits(dataset: ImageDataset, val_size: int) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """Return normalized float32 ``(train, val, test)`` splits in ``(C, H, W)`` layout.

    The validation split is ``val_size`` stratified examples of the training set (at most a
    fifth of it); train is shuffled once with :data:`SPLIT_SEED`.
    """
    x, y = to_chw(dataset.x_train), dataset.y_train
    n_val = min(int(val_size), len(y) // 5)
    if n_val < dataset.num_classes:
        raise ValueError(
            f"{dataset.name}: {len(y)} training images are too few to carve a validation split "
            f"with every one of {dataset.num_classes} classes"
        )
    idx_train, idx_val = train_test_split(
        np.arange(len(y)), test_size=n_val, stratify=y, random_state=SPLIT_SEED
    )
    x_train, y_train = x[idx_train].astype(np.float32) / 255.0, y[idx_train]
    mean = x_train.mean(axis=(0, 2, 3), keepdims=True)
    std = x_train.std(axis=(0, 2, 3), keepdims=True) + 1e-6

    def norm(arr: np.ndarray) -> np.ndarray:
        return ((arr.astype(np.float32) / 255.0 - mean) / std).astype(np.float32)

    x_train = ((x_train - mean) / std).astype(np.float32)
    x_test = to_chw(dataset.x_test)
    return (
        (x_train, y_train),
        (norm(x[idx_val]), y[idx_val]),
        (norm(x_test), np.array(dataset.y_test)),
    )


class ImageTask(ClassificationTask):
    """Image classification on MNIST, Fashion-MNIST or CIFAR-10.

    Args:
        dataset: ``"mnist"``, ``"fashion-mnist"`` or ``"cifar10"``.
        epochs: default training epochs (fidelity ``epochs``).
        train_size: default number of training examples used (fidelity ``train_size``; at most
            the whole training split).
        val_size: validation examples carved from the official training set.
        lr: Adam learning rate.
        batch_size: minibatch size.
        cache: download cache directory (default: ``$DARWIN_BENCH_DATA`` or
            ``~/.cache/darwin_bench``).
        threads: torch threads while training.

    Raises:
        ValueError: for an unknown dataset name.
        DatasetUnavailableError: when the data is neither cached nor downloadable.
    """

    def __init__(
        self,
        dataset: str = "mnist",
        *,
        epochs: int | None = None,
        train_size: int | None = None,
        val_size: int | None = None,
        lr: float = 1e-3,
        batch_size: int = 128,
        cache: str | Path | None = None,
        threads: int = 1,
    ) -> None:
        check_choice("dataset", dataset, DEFAULTS)
        defaults = DEFAULTS[dataset]
        folder = Path(cache) if cache is not None else None
        try:
            data = load_image_dataset(dataset, cache=folder)
        except DatasetUnavailableError as exc:
            where = folder if folder is not None else cache_dir()
            raise DatasetUnavailableError(
                f"{dataset} is not in the data cache ({where}) and could not be downloaded; "
                "see docs/data-images.md for the files to place there by hand\n" + str(exc)
            ) from exc
        train, val, test = image_splits(
            data, check_positive_int("val_size", val_size or defaults["val_size"])
        )
        super().__init__(
            dataset,
            train,
            val,
            test,
            num_classes=data.num_classes,
            train_config=TrainConfig(lr=lr, batch_size=batch_size),
            epochs=check_positive_int("epochs", epochs or defaults["epochs"]),
            threads=threads,
            default_targets=TARGETS[dataset],
            classes=data.classes,
        )
        self.source_sha256 = data.sha256
        size = check_positive_int("train_size", train_size or defaults["train_size"])
        self.fidelities["train_size"] = min(size, int(self.y_train.shape[0]))

    def config(self) -> dict[str, Any]:
        return {**super().config(), "source_sha256": self.source_sha256}

    def check_fidelity(self, fidelity: Mapping[str, Any] | None) -> dict[str, int]:
        """The base rules, and ``train_size`` capped at the training split's size."""
        out = super().check_fidelity(fidelity)
        out["train_size"] = min(out["train_size"], int(self.y_train.shape[0]))
        return out

    def training_data(self, fidelity: Mapping[str, int]) -> tuple[torch.Tensor, torch.Tensor]:
        """The first ``train_size`` examples of the fixed-order training split."""
        n = fidelity["train_size"]
        return self.x_train[:n], self.y_train[:n]

    def score_split(
        self, model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor
    ) -> tuple[float, float]:
        """Accuracy and mean cross-entropy in batches (whole CIFAR splits do not fit one pass)."""
        correct, loss, n = 0.0, 0.0, int(y.shape[0])
        for i in range(0, n, EVAL_BATCH):
            acc, part = evaluate_classifier(model, x[i : i + EVAL_BATCH], y[i : i + EVAL_BATCH])
            size = int(y[i : i + EVAL_BATCH].shape[0])
            correct += acc * size
            loss += part * size
        return correct / n, loss / n
