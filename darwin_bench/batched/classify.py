"""Batched training of plain MLPs on a classification task: the library entry point.

:func:`train_classifiers` trains a list of ``mlp``-space architectures on a
:class:`~darwin_bench.tasks.ClassificationTask`'s splits as one batched population and returns
each network's validation and test metrics after every epoch (what a tabular benchmark
stores). :func:`fit_batch` turns the runs into :class:`~darwin_bench.tasks.TaskResult` s for the
evaluator. A network's numbers are the same whether it is trained alone or in any batch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from darwin_bench.architecture import Architecture
from darwin_bench.batched.dense import dense_net, load_weights
from darwin_bench.batched.population import DenseRun, train_dense
from darwin_bench.seeding import torch_determinism

if TYPE_CHECKING:
    from darwin_bench.tasks.base import FitRequest, LearningCurve, TaskResult
    from darwin_bench.tasks.classification import ClassificationTask


def train_classifiers(
    task: ClassificationTask,
    architectures: Sequence[Architecture],
    seeds: Sequence[int],
    *,
    epochs: int | None = None,
    every_epoch: bool = True,
) -> list[DenseRun]:
    """Train ``architectures`` (plain dense stacks) together on ``task``'s training split.

    Args:
        task: the classification task (its splits, trainer settings and threads are used).
        architectures: plain dense stacks (``mlp``-space networks).
        seeds: one seed per architecture: initial weights (exactly those of ``task.fit``),
            minibatch order and dropout masks.
        epochs: training epochs (default: the task's default fidelity).
        every_epoch: evaluate after every epoch (else after the last only).

    Returns:
        One :class:`~darwin_bench.batched.DenseRun` per architecture; its ``evaluations`` hold
        ``epoch``, ``train_loss``, ``val_accuracy``, ``val_loss``, ``test_accuracy`` and
        ``test_loss`` per evaluated epoch.

    Raises:
        ValueError: when an architecture is not a plain dense stack.
    """
    epochs = task.check_fidelity({} if epochs is None else {"epochs": epochs})["epochs"]
    nets = [dense_net(a, s, task.threads) for a, s in zip(architectures, seeds, strict=True)]
    return train_dense(
        nets,
        seeds,
        (task.x_train, task.y_train),
        epochs=epochs,
        config=task.train_config,
        evals={"val": (task.x_val, task.y_val), "test": (task.x_test, task.y_test)},
        every_epoch=every_epoch,
        threads=task.threads,
    )


def fit_batch(
    task: ClassificationTask, requests: Sequence[FitRequest]
) -> list[TaskResult | Exception]:
    """:meth:`Task.fit_batch` for plain dense stacks on a classification task."""
    from darwin_bench.tasks.base import TaskResult, TrainingDiverged

    epochs = {task.check_fidelity(f)["epochs"] for _, _, f in requests}
    if len(epochs) != 1:
        raise ValueError(f"a batch must share one epochs fidelity; got {sorted(epochs)}")
    runs = train_classifiers(
        task,
        [a for a, _, _ in requests],
        [s for _, s, _ in requests],
        epochs=epochs.pop(),
        every_epoch=False,
    )
    out: list[TaskResult | Exception] = []
    for (architecture, seed, _), run in zip(requests, runs):
        last = run.evaluations[-1] if run.evaluations else {}
        if run.error or not math.isfinite(last.get("val_loss", math.nan)):
            out.append(TrainingDiverged(run.error or f"validation loss is {last.get('val_loss')}"))
            continue
        with torch_determinism(seed, task.threads):
            model = load_weights(task.build(architecture), run.weights).eval()
        metrics = {
            "accuracy": last["val_accuracy"],
            "val_loss": last["val_loss"],
            "train_loss": last["train_loss"],
        }
        test = {"test_accuracy": last["test_accuracy"], "test_loss": last["test_loss"]}
        details = {"epochs": len(run.history), "trainer": "batched"}
        out.append(TaskResult(metrics, model, run.train_seconds, details, test))
    return out


def learning_curves(
    task: ClassificationTask,
    architectures: Sequence[Architecture],
    seeds: Sequence[int],
    epochs: int,
) -> list[LearningCurve]:
    """What :func:`fit_batch` gives at every epoch count ``1..epochs``, from one batched run
    evaluated after every epoch (entry ``e - 1`` of a curve is ``fit_batch`` at ``e`` epochs).

    A curve's seconds are the network's share of the run's wall time (:class:`DenseRun`),
    times ``e / epochs``.
    """
    from darwin_bench.tasks.base import LearningCurve

    runs = train_classifiers(task, architectures, seeds, epochs=epochs, every_epoch=True)
    curves = []
    for architecture, seed, run in zip(architectures, seeds, runs):
        curve = LearningCurve()
        by_epoch = {int(r["epoch"]): r for r in run.evaluations}
        for e in range(1, epochs + 1):
            seconds = run.train_seconds * e / epochs
            row = by_epoch.get(e)
            if row is None or (run.error and e == epochs):
                curve.add({}, {}, seconds, f"TrainingDiverged: {run.error}")
            elif not math.isfinite(row["val_loss"]):
                curve.add(
                    {}, {}, seconds, f"TrainingDiverged: validation loss is {row['val_loss']}"
                )
            else:
                metrics = {
                    "accuracy": row["val_accuracy"],
                    "val_loss": row["val_loss"],
                    "train_loss": row["train_loss"],
                }
                test = {"test_accuracy": row["test_accuracy"], "test_loss": row["test_loss"]}
                curve.add(metrics, test, seconds)
        if not run.error:
            with torch_determinism(seed, task.threads):
                curve.model = load_weights(task.build(architecture), run.weights).eval()
        curves.append(curve)
    return curves
