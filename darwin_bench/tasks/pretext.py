"""Pretext objectives: what a base network learns before it is specialized (seed 004).

Seed 004 trains a base network on a related, cheaply labelled objective (its example: *predict
object position*) and then specializes it to the task that matters (*recognise the object*).
A :class:`Pretext` owns that related objective's data and loss:

* :class:`PositionPretext`: regress the centre of the one object in a scene (mean squared
  error on ``(x, y)`` in ``[0, 1]``), the paper's protocol on generated object scenes;
* :class:`ClassSubsetPretext`: classify a subset of the target's classes (the Digits analogue:
  a base trained on digits 0-4).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from darwin_bench.hashing import data_hash
from darwin_bench.tasks.classification import ClassificationTask
from darwin_bench.training import (
    TrainConfig,
    evaluate_classifier,
    train_classifier,
    train_supervised,
)


class Pretext(ABC):
    """A related objective a base network is trained on (see the module docstring)."""

    name: str = "pretext"

    @property
    @abstractmethod
    def num_outputs(self) -> int:
        """Outputs of the base network's head for this objective."""

    @property
    @abstractmethod
    def data_hash(self) -> str:
        """Content hash of the pretext's data."""

    @abstractmethod
    def train(self, model: nn.Module, *, epochs: int, seed: int, config: TrainConfig) -> None:
        """Train ``model`` in place (the caller seeds the initialisation)."""

    @abstractmethod
    def evaluate(self, model: nn.Module) -> dict[str, float]:
        """The trained base's quality on the pretext's held-out data."""

    def config(self) -> dict[str, Any]:
        """Settings that change the base network (JSON)."""
        return {"name": self.name}


class PositionPretext(Pretext):
    """Regress the object's centre ``(x, y)`` from an image (MSE), seed 004's pretext.

    Args:
        images: normalized input images ``N×C×H×W`` (as the target task normalizes its own).
        positions: ``N×2`` object centres as fractions of the image side.
        val_fraction: the last part of the scenes held out to report the base's position error.
    """

    name = "position"

    def __init__(self, images: np.ndarray, positions: np.ndarray, *, val_fraction: float = 0.1):
        if images.shape[0] != positions.shape[0] or positions.shape[1:] != (2,):
            raise ValueError(
                f"positions must be N×2 for N = {images.shape[0]} images; got {positions.shape}"
            )
        if not 0.0 < val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in (0, 1); got {val_fraction!r}")
        self._hash = data_hash(np.ascontiguousarray(images), np.ascontiguousarray(positions))
        cut = images.shape[0] - max(1, round(images.shape[0] * val_fraction))
        x = torch.as_tensor(np.asarray(images, dtype=np.float32))
        y = torch.as_tensor(np.asarray(positions, dtype=np.float32))
        self.x_train, self.y_train, self.x_val, self.y_val = x[:cut], y[:cut], x[cut:], y[cut:]
        self.side = int(images.shape[-1])

    @property
    def num_outputs(self) -> int:
        return 2

    @property
    def data_hash(self) -> str:
        return self._hash

    def train(self, model: nn.Module, *, epochs: int, seed: int, config: TrainConfig) -> None:
        train_supervised(
            model,
            self.x_train,
            self.y_train,
            loss_fn=nn.MSELoss(),
            epochs=epochs,
            seed=seed,
            config=config,
        )

    @torch.inference_mode()
    def evaluate(self, model: nn.Module) -> dict[str, float]:
        """``position_error_px``: mean distance of predicted to true centre, in pixels."""
        model.eval()
        error = (model(self.x_val) - self.y_val).norm(dim=1) * self.side
        return {"position_error_px": float(error.mean()), "scenes": len(self.x_train)}

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "scenes": len(self.x_train), "held_out": len(self.x_val)}


class ClassSubsetPretext(Pretext):
    """Classify only ``classes`` of ``target``'s training data (the Digits analogue).

    Raises:
        ValueError: when ``classes`` is empty or not a subset of the target's classes.
    """

    name = "class-subset"

    def __init__(self, target: ClassificationTask, classes: Sequence[int] | None = None):
        chosen = range(target.num_outputs) if classes is None else classes
        self.classes = tuple(sorted(int(c) for c in chosen))
        if not self.classes or not set(self.classes) <= set(range(target.num_outputs)):
            raise ValueError(
                f"base_classes must be a non-empty subset of 0..{target.num_outputs - 1}; "
                f"got {classes!r}"
            )
        self.target = target
        remap = torch.full((target.num_outputs,), -1, dtype=torch.int64)
        remap[list(self.classes)] = torch.arange(len(self.classes))
        self._remap = remap

    def _subset(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        chosen = torch.isin(y, torch.tensor(self.classes))
        return x[chosen], self._remap[y[chosen]]

    @property
    def num_outputs(self) -> int:
        return len(self.classes)

    @property
    def data_hash(self) -> str:
        return self.target.data_hash

    def train(self, model: nn.Module, *, epochs: int, seed: int, config: TrainConfig) -> None:
        x, y = self._subset(self.target.x_train, self.target.y_train)
        train_classifier(model, x, y, epochs=epochs, seed=seed, config=config)

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        """``accuracy`` on the target's validation images of the pretext classes."""
        accuracy, _ = evaluate_classifier(
            model, *self._subset(self.target.x_val, self.target.y_val)
        )
        return {"accuracy": accuracy}

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "classes": list(self.classes)}
