"""`train_dense`: train a population of dense networks together and score them.

Each network's result is a :class:`DenseRun`: its trained weights, per-epoch training loss and
evaluation metrics, or the reason it failed. See :mod:`darwin_bench.batched.trainer` for what
the batched program guarantees.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch

from darwin_bench.batched.dense import DenseNet, LayerWeights
from darwin_bench.batched.trainer import DenseTrainer
from darwin_bench.training import TrainConfig

Split = tuple[torch.Tensor, torch.Tensor]


@dataclass
class DenseRun:
    """What the batched trainer returns for one network.

    Attributes:
        weights: trained ``(weight (out, in), bias (out,))`` per layer.
        history: mean training loss of each epoch.
        evaluations: per evaluated epoch, ``{"epoch", "train_loss", "<set>_accuracy",
            "<set>_loss", ...}`` for every evaluation set.
        error: why training failed (a non-finite loss or weights), else ``None``.
        train_seconds: this network's share of the batch's wall time (by its MACs).
    """

    weights: list[LayerWeights]
    history: list[float]
    evaluations: list[dict[str, float]] = field(default_factory=list)
    error: str | None = None
    train_seconds: float = 0.0


@contextmanager
def _threads(count: int) -> Iterator[None]:
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def train_dense(
    nets: Sequence[DenseNet],
    seeds: Sequence[int],
    train: Split,
    *,
    epochs: int,
    config: TrainConfig,
    evals: Mapping[str, Split] | None = None,
    every_epoch: bool = False,
    schedule: Callable[[int, int], float] | None = None,
    threads: int = 1,
) -> list[DenseRun]:
    """Train ``nets`` together on ``train`` for ``epochs``; evaluate on ``evals`` at the end
    (and after every epoch with ``every_epoch``). Returns one :class:`DenseRun` per network.

    Inputs are flattened to ``(n, features)``. A network whose loss becomes non-finite gets an
    ``error`` and no further evaluations; the others are not affected.
    """
    start = time.perf_counter()
    x, y = train[0].reshape(train[0].shape[0], -1), train[1]
    eval_sets = {k: (v[0].reshape(v[0].shape[0], -1), v[1]) for k, v in (evals or {}).items()}
    runs = [DenseRun([], []) for _ in nets]
    with _threads(threads):
        trainer = DenseTrainer(nets, seeds, config, schedule=schedule, threads=threads)
        total_steps = epochs * math.ceil(x.shape[0] / config.batch_size)
        for epoch in range(epochs):
            totals = trainer.train_epoch(x, y, epoch, total_steps)
            for i, run in enumerate(runs):
                if i not in trainer.failed:
                    run.history.append(float(totals[i]) / x.shape[0])
            if every_epoch or epoch == epochs - 1:
                _record(trainer, runs, eval_sets, epoch)
        for i, run in enumerate(runs):
            run.weights = trainer.weights(i)
            finite = all(bool(torch.isfinite(t).all()) for pair in run.weights for t in pair)
            if i not in trainer.failed and not finite:
                trainer.failed[i] = "weights became non-finite during training"
            run.error = trainer.failed.get(i)
    elapsed = time.perf_counter() - start
    total_macs = sum(n.macs for n in nets)
    for run, net in zip(runs, nets):
        run.train_seconds = elapsed * net.macs / total_macs
    return runs


def _record(
    trainer: DenseTrainer, runs: list[DenseRun], eval_sets: Mapping[str, Split], epoch: int
) -> None:
    metrics: dict[str, tuple[torch.Tensor, torch.Tensor]] = {
        name: trainer.evaluate(*split) for name, split in eval_sets.items()
    }
    for i, run in enumerate(runs):
        if i in trainer.failed:
            continue
        record = {"epoch": float(epoch + 1), "train_loss": run.history[-1]}
        for name, (accuracy, loss) in metrics.items():
            record[f"{name}_accuracy"] = float(accuracy[i])
            record[f"{name}_loss"] = float(loss[i])
        run.evaluations.append(record)
