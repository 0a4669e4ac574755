"""Masked MLPs (the ``synapses`` space) for the batched trainer.

An offspring is trained as its compact network (dead neurons removed,
:func:`darwin_bench.models.masked.compact`). For batching, each hidden layer is padded up to a
multiple of :data:`PAD` units with dead units (zero weights and biases, masked), so that
offspring of similar sizes share batched matmuls. The padding depends only on the network
itself, and dead units stay exactly zero under training (their gradients are zero), so the
batched trainer's guarantee holds: a network's result does not depend on its batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch

from darwin_bench.architecture import Architecture
from darwin_bench.batched.dense import DenseNet, LayerWeights
from darwin_bench.batched.layout import round_up
from darwin_bench.batched.population import train_dense
from darwin_bench.models.masked import EmptyLayerError, Layer, MaskedMLP, compact, expand
from darwin_bench.tasks.base import TaskResult, TrainingDiverged
from darwin_bench.training import cosine

if TYPE_CHECKING:
    from darwin_bench.tasks.ancestor import MaskedMLPTask

#: Hidden widths are padded up to a multiple of this many units.
PAD = 32


def masked_net(layers: Sequence[Layer], masks: Sequence[np.ndarray]) -> DenseNet:
    """The :class:`DenseNet` of a compact masked ReLU MLP, hidden widths padded to :data:`PAD`.

    Args:
        layers: ``(weight (out, in), bias (out,))`` per layer, output layer last.
        masks: boolean ``(out, in)`` masks shaped like the weights.
    """
    widths = [int(w.shape[0]) for w, _ in layers]
    padded = [round_up(w, PAD) for w in widths[:-1]] + [widths[-1]]
    dims = (int(layers[0][0].shape[1]), *padded)
    init: list[LayerWeights] = []
    grad_masks: list[torch.Tensor] = []
    for i, ((w, b), m) in enumerate(zip(layers, masks)):
        rows, cols = w.shape
        weight = torch.zeros(dims[i + 1], dims[i])
        bias = torch.zeros(dims[i + 1])
        mask = torch.zeros(dims[i + 1], dims[i])
        weight[:rows, :cols] = torch.as_tensor(np.asarray(w, dtype=np.float32) * m)
        bias[:rows] = torch.as_tensor(np.asarray(b, dtype=np.float32))
        mask[:rows, :cols] = torch.as_tensor(np.asarray(m, dtype=np.float32))
        init.append((weight, bias))
        grad_masks.append(mask)
    hidden = len(layers) - 1
    return DenseNet(dims, ("relu",) * hidden, (0.0,) * hidden, tuple(init), tuple(grad_masks))


def unpad(weights: Sequence[LayerWeights], layers: Sequence[Layer]) -> list[Layer]:
    """Trained padded ``weights`` cut back to the compact shapes of ``layers`` (numpy)."""
    out: list[Layer] = []
    for (w, b), (w0, _) in zip(weights, layers):
        rows, cols = w0.shape
        out.append((w[:rows, :cols].numpy().copy(), b[:rows].numpy().copy()))
    return out


Offspring = tuple[Architecture, list[Layer], int, int]
"""``(architecture, starting weights in the ancestor's layout, seed, epochs)``."""


def train_offspring(
    task: MaskedMLPTask, items: Sequence[Offspring]
) -> list[tuple[TaskResult, list[Layer]] | Exception]:
    """Train masked offspring of ``task`` together: each is compacted, trained with the task's
    trainer settings and a cosine schedule, and scored; returns ``(result, trained weights in
    the ancestor's layout)`` or the exception that failed it, per item.

    Raises:
        ValueError: when the items do not share one epoch count.
    """
    out: list[tuple[TaskResult, list[Layer]] | Exception] = []
    nets, seeds, compacted = [], [], []
    if len({e for *_, e in items}) > 1:
        raise ValueError("a batch of offspring must share one epochs fidelity")
    for architecture, initial, seed, _ in items:
        masks = task.space.masks(task.space.encode(architecture))
        try:
            layers, small, kept = compact(initial, masks)
        except EmptyLayerError as exc:
            out.append(exc)
            continue
        out.append(ValueError("not trained"))  # replaced below
        nets.append(masked_net(layers, small))
        seeds.append(seed)
        compacted.append((len(out) - 1, layers, small, kept))
    if not nets:
        return out
    runs = train_dense(
        nets,
        seeds,
        (task.x_train, task.y_train),
        epochs=items[0][3],
        config=task.train_config,
        evals={"val": (task.x_val, task.y_val), "test": (task.x_test, task.y_test)},
        every_epoch=False,
        schedule=cosine,
        threads=task.threads,
    )
    for (k, layers, small, kept), run in zip(compacted, runs):
        last = run.evaluations[-1] if run.evaluations else {}
        if run.error or not np.isfinite(last.get("val_loss", np.nan)):
            out[k] = TrainingDiverged(run.error or f"validation loss is {last.get('val_loss')}")
            continue
        model = MaskedMLP(unpad(run.weights, layers), small)
        metrics = {
            "accuracy": last["val_accuracy"],
            "val_loss": last["val_loss"],
            "train_loss": last["train_loss"],
            "clusters": float(sum(len(kk) for kk in kept)),
        }
        test = {"test_accuracy": last["test_accuracy"], "test_loss": last["test_loss"]}
        details = {"epochs": items[0][3], "trainer": "batched"}
        result = TaskResult(metrics, model, run.train_seconds, details, test)
        out[k] = (result, expand(model.layers(), kept, task.space.shapes))
    return out
