"""A deterministic CPU trainer for classifiers; epochs are the fidelity."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from darwin_bench.validation import check_positive_float, check_positive_int


class TrainingDiverged(RuntimeError):
    """Raised by a trainer when the loss becomes NaN or infinite (also importable from
    :mod:`darwin_bench.tasks`, where a task's training body raises it)."""


@dataclass(frozen=True)
class TrainConfig:
    """Trainer settings.

    Attributes:
        lr: Adam learning rate.
        batch_size: minibatch size.
        weight_decay: L2 penalty (AdamW-style decoupled decay).
        grad_clip: clip the global gradient norm at this value (0 disables).
    """

    lr: float = 3e-3
    batch_size: int = 64
    weight_decay: float = 0.0
    grad_clip: float = 0.0

    def __post_init__(self) -> None:
        check_positive_float("lr", self.lr)
        check_positive_int("batch_size", self.batch_size)
        if self.weight_decay < 0 or self.grad_clip < 0:
            raise ValueError("weight_decay and grad_clip must be >= 0")

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable settings."""
        return asdict(self)


def train_supervised(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    loss_fn: nn.Module,
    epochs: int,
    seed: int,
    config: TrainConfig,
    schedule: Callable[[int, int], float] | None = None,
    on_epoch: Callable[[int, float], None] | None = None,
) -> list[float]:
    """Train ``model`` on ``(x, y)`` with ``loss_fn``; return the mean loss of each epoch.

    AdamW over shuffled minibatches. The minibatch order comes from a generator seeded with
    ``seed``; the caller seeds torch's global generator (weights init, dropout) the same way,
    see :func:`darwin_bench.seeding.torch_determinism`. ``schedule(step, steps)``, when given,
    multiplies the learning rate before each step (e.g. :func:`cosine`).

    Without a schedule nothing depends on ``epochs`` but the number of passes, so the first
    ``e`` epochs of a longer run are exactly an ``e``-epoch run: ``on_epoch(epoch, mean_loss)``,
    called after each epoch (1-based), may evaluate the model (in eval mode, without drawing
    from torch's global generator) to record a learning curve; training resumes in train mode.

    Raises:
        TrainingDiverged: when a loss or the weights become NaN or infinite.
    """
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    history: list[float] = []
    n = x.shape[0]
    steps, step = epochs * math.ceil(n / config.batch_size), 0
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(n, generator=generator)
        total = 0.0
        for start in range(0, n, config.batch_size):
            if schedule is not None:
                for group in optimizer.param_groups:
                    group["lr"] = config.lr * schedule(step, steps)
                step += 1
            idx = order[start : start + config.batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[idx]), y[idx])
            value = float(loss.detach())
            if not math.isfinite(value):
                raise TrainingDiverged(f"loss became {value} in epoch {epoch + 1}")
            loss.backward()
            if config.grad_clip > 0:
                nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            total += value * idx.numel()
        history.append(total / n)
        if on_epoch is not None:
            on_epoch(epoch + 1, history[-1])
            model.train()
    check_finite_weights(model)
    return history


def check_finite_weights(model: nn.Module) -> None:
    """Raise :class:`TrainingDiverged` when a parameter of ``model`` is NaN or infinite."""
    for p in model.parameters():
        if not torch.isfinite(p).all():
            raise TrainingDiverged("weights became non-finite during training")


def cosine(step: int, steps: int) -> float:
    """Cosine annealing of the learning rate from its peak (step 0) towards 0 (step ``steps``)."""
    return 0.5 * (1.0 + math.cos(math.pi * step / steps))


def train_classifier(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int,
    seed: int,
    config: TrainConfig,
    schedule: Callable[[int, int], float] | None = None,
    on_epoch: Callable[[int, float], None] | None = None,
) -> list[float]:
    """:func:`train_supervised` with cross-entropy on class labels."""
    return train_supervised(
        model,
        x,
        y,
        loss_fn=nn.CrossEntropyLoss(),
        epochs=epochs,
        seed=seed,
        config=config,
        schedule=schedule,
        on_epoch=on_epoch,
    )


@torch.inference_mode()
def evaluate_classifier(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """Return (accuracy, mean cross-entropy) of ``model`` on ``(x, y)``."""
    model.eval()
    logits = model(x)
    loss = float(nn.functional.cross_entropy(logits, y))
    accuracy = float((logits.argmax(dim=1) == y).float().mean())
    return accuracy, loss
