"""The Saliency task (seed 000): per-pixel salient-object maps, scored by F-beta and MAE.

Data: procedurally generated scenes by default (:func:`darwin_bench.data.saliency.
generate_scenes`, fully determined by ``data_seed``), or a real set read from a folder
(``images/`` + ``masks/``, :func:`~darwin_bench.data.saliency.load_saliency_folder`). Either is
split once into train / validation / test with a fixed seed; the split is part of the task, and
its content hash (:attr:`SaliencyTask.data_hash`) is recorded in every run.

Training: binary cross-entropy on the network's logit map (``BCEWithLogitsLoss``), AdamW,
minibatch order from the evaluation's seed, torch threads pinned: bit-identical results on the
same CPU for the same seed. Inputs are centred per image (each image's mean colour
subtracted, as in frequency-tuned saliency) and scaled per channel by the training split's
standard deviation. Epochs are the fidelity.

Metrics (maps are the sigmoid of the logits, min-max normalised per map as PySODMetrics does
unless ``normalize_maps=False``): ``f_beta`` (validation, adaptive threshold, β² = 0.3; the
search-facing metric, higher is better), ``mae`` (validation),
``val_loss``, ``train_loss``; test metrics (reports only): ``test_f_beta``, ``test_mae``,
``test_loss``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from darwin_bench.architecture import Architecture
from darwin_bench.data.saliency import SaliencySet, generate_scenes, load_saliency_folder, split
from darwin_bench.hashing import data_hash
from darwin_bench.metrics.saliency import f_beta, mae
from darwin_bench.models import build_model
from darwin_bench.seeding import SPLIT_SEED
from darwin_bench.tasks.base import Task, TaskResult, TrainingDiverged
from darwin_bench.training import TrainConfig, train_supervised
from darwin_bench.validation import check_positive_int

#: Reward targets per cost: about the costs of the reference architecture in docs/tasks.md
#: (2 stages of 16 and 32 channels, skips, bilinear upsampling) on 32×32 scenes; ``latency_ms``:
#: the median ONNX Runtime latency of random networks (perf latency-targets, docs/costs.md).
TARGETS: dict[str, float] = {"flops": 1.6e7, "params": 2e4, "synapses": 2e4, "latency_ms": 0.47}


def train_saliency(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int,
    seed: int,
    config: TrainConfig,
) -> list[float]:
    """:func:`~darwin_bench.training.train_supervised` with per-pixel binary cross-entropy on
    logit maps (images -> masks); returns the epoch losses.

    Raises:
        TrainingDiverged: when a loss or weight becomes NaN or infinite.
    """
    return train_supervised(
        model, x, y, loss_fn=nn.BCEWithLogitsLoss(), epochs=epochs, seed=seed, config=config
    )


@torch.inference_mode()
def evaluate_saliency(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, normalize_maps: bool = True
) -> dict[str, float]:
    """Return ``{"f_beta", "mae", "loss"}`` of ``model`` on images ``x`` and masks ``y``.

    F-beta and MAE are computed on per-map min-max normalised maps unless ``normalize_maps``
    is False (see :mod:`darwin_bench.metrics.saliency`).

    Raises:
        TrainingDiverged: when the network outputs NaN or infinite logits.
    """
    model.eval()
    logits = model(x)
    if not torch.isfinite(logits).all():
        raise TrainingDiverged("the network outputs non-finite logits")
    loss = float(nn.functional.binary_cross_entropy_with_logits(logits, y))
    maps = torch.sigmoid(logits).numpy()
    masks = y.numpy()
    return {
        "f_beta": f_beta(maps, masks, normalize=normalize_maps),
        "mae": mae(maps, masks, normalize=normalize_maps),
        "loss": loss,
    }


def _centre(images: np.ndarray) -> np.ndarray:
    """Subtract each image's own mean colour (saliency is contrast with the surround)."""
    out: np.ndarray = images - images.mean(axis=(2, 3), keepdims=True)
    return out


class SaliencyTask(Task):
    """Salient-object detection on fixed train / validation / test splits.

    Args:
        folder: a real saliency set (``folder/images``, ``folder/masks``); ``None`` generates
            scenes.
        scenes: number of generated scenes (all splits together).
        size: side of generated scenes, or the side real images are resized to (``None``
            keeps a folder's own size, which must then be shared by all images).
        data_seed: seed of the scene generator.
        fractions: train / validation / test fractions.
        epochs: default training epochs (the fidelity).
        lr: AdamW learning rate.
        batch_size: minibatch size.
        threads: torch threads while training (pinned for determinism).
        generator_kwargs: further arguments of :func:`generate_scenes` (``max_objects``,
            ``max_distractors``, ``noise``).
        normalize_maps: min-max normalise each predicted map before F-beta and MAE (the
            salient-object community's default, as PySODMetrics); False scores maps as given.

    Raises:
        ValueError: for bad sizes or fractions, or a folder without images or masks.
    """

    name = "saliency"
    metric: ClassVar[str] = "f_beta"
    higher_is_better: ClassVar[bool] = True

    def __init__(
        self,
        *,
        folder: str | Path | None = None,
        scenes: int = 500,
        size: int | None = 32,
        data_seed: int = 0,
        fractions: Sequence[float] = (0.6, 0.2, 0.2),
        epochs: int = 4,
        lr: float = 3e-3,
        batch_size: int = 16,
        threads: int = 1,
        generator_kwargs: Mapping[str, Any] | None = None,
        normalize_maps: bool = True,
    ) -> None:
        self.normalize_maps = bool(normalize_maps)
        if folder is None:
            data = generate_scenes(
                check_positive_int("scenes", scenes),
                size=32 if size is None else size,
                seed=data_seed,
                **dict(generator_kwargs or {}),
            )
        else:
            data = load_saliency_folder(Path(folder), size=size)
        if len(fractions) != 3:
            raise ValueError(f"fractions must be (train, val, test); got {tuple(fractions)!r}")
        parts = split(data, fractions, seed=SPLIT_SEED)
        self.source = data.name
        self.splits: tuple[SaliencySet, ...] = parts
        self._data_hash = data_hash(*(a for p in parts for a in (p.images, p.masks)))
        train = _centre(parts[0].images)
        self.std = (train.std(axis=(0, 2, 3), keepdims=True) + 1e-6).astype(np.float32)
        tensors = [(self._normalize(p.images), torch.as_tensor(p.masks.copy())) for p in parts]
        (self.x_train, self.y_train), (self.x_val, self.y_val), (self.x_test, self.y_test) = tensors
        self.train_config = TrainConfig(lr=lr, batch_size=batch_size)
        self.fidelities = {"epochs": check_positive_int("epochs", epochs)}
        self.threads = check_positive_int("threads", threads)
        self.default_targets = dict(TARGETS)

    def _normalize(self, images: np.ndarray) -> torch.Tensor:
        return torch.as_tensor((_centre(images) / self.std).astype(np.float32))

    # ------------------------------------------------------------ task identity
    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def num_outputs(self) -> int:
        return 1

    @property
    def data_hash(self) -> str:
        return self._data_hash

    def config(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "sizes": [len(p) for p in self.splits],
            "train": self.train_config.to_dict(),
            "threads": self.threads,
            "loss": "bce_with_logits",
            "normalize": "per-image mean colour removed, / train std per channel",
            "normalize_maps": self.normalize_maps,
        }

    def training_samples(self, fidelity: Mapping[str, int]) -> int:
        return self.check_fidelity(fidelity)["epochs"] * int(self.x_train.shape[0])

    def build(self, architecture: Architecture) -> nn.Module:
        return build_model(architecture)

    def example_input(self, batch_size: int = 1) -> torch.Tensor:
        return self.x_val[:batch_size].clone()

    # -------------------------------------------------------------------- fit
    def evaluate(self, model: nn.Module) -> tuple[dict[str, float], dict[str, float]]:
        """``(validation metrics, test metrics)`` of a trained ``model`` (see the module
        docstring)."""
        val = evaluate_saliency(model, self.x_val, self.y_val, normalize_maps=self.normalize_maps)
        test = evaluate_saliency(
            model, self.x_test, self.y_test, normalize_maps=self.normalize_maps
        )
        metrics = {"f_beta": val["f_beta"], "mae": val["mae"], "val_loss": val["loss"]}
        return metrics, {
            "test_f_beta": test["f_beta"],
            "test_mae": test["mae"],
            "test_loss": test["loss"],
        }

    def train(self, model: nn.Module, *, seed: int, epochs: int) -> list[float]:
        """Train ``model`` in place on the training split (no seeding of the init)."""
        return train_saliency(
            model, self.x_train, self.y_train, epochs=epochs, seed=seed, config=self.train_config
        )

    def _fit(
        self, architecture: Architecture, *, seed: int, fidelity: dict[str, int]
    ) -> TaskResult:
        model = self.build(architecture)
        history = self.train(model, seed=seed, epochs=fidelity["epochs"])
        metrics, test_metrics = self.evaluate(model)
        metrics["train_loss"] = history[-1]
        return TaskResult(metrics, model, test_metrics=test_metrics)
