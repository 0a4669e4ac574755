"""`ClassificationTask`: any labelled arrays with fixed train/validation/test splits."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from torch import nn

from darwin_bench.architecture import Architecture
from darwin_bench.hashing import data_hash
from darwin_bench.models import build_model
from darwin_bench.seeding import SPLIT_SEED, torch_determinism
from darwin_bench.tasks.base import (
    FitRequest,
    LearningCurve,
    Task,
    TaskResult,
    TrainingDiverged,
)
from darwin_bench.training import (
    TrainConfig,
    check_finite_weights,
    evaluate_classifier,
    train_classifier,
)

Split = tuple[np.ndarray, np.ndarray]


def classification_metrics(
    model: nn.Module,
    history: list[float],
    val: tuple[torch.Tensor, torch.Tensor],
    test: tuple[torch.Tensor, torch.Tensor],
    evaluate: Callable[[nn.Module, torch.Tensor, torch.Tensor], tuple[float, float]] = (
        evaluate_classifier
    ),
) -> tuple[dict[str, float], dict[str, float]]:
    """The metrics of a trained classifier, as ``(metrics, test_metrics)``: ``accuracy`` and
    ``val_loss`` (validation, what the search sees) and ``train_loss`` (last epoch); then
    ``test_accuracy`` and ``test_loss`` (reporting only).

    Raises:
        TrainingDiverged: when the validation loss is not finite.
    """
    val_acc, val_loss = evaluate(model, *val)
    test_acc, test_loss = evaluate(model, *test)
    if not np.isfinite(val_loss):
        raise TrainingDiverged(f"validation loss is {val_loss}")
    metrics = {"accuracy": val_acc, "val_loss": val_loss, "train_loss": history[-1]}
    return metrics, {"test_accuracy": test_acc, "test_loss": test_loss}


def stratified_splits(
    x: np.ndarray, y: np.ndarray, val_fraction: float, test_fraction: float
) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """Fixed stratified ``(train, val, test)`` splits of ``(x, y)`` with :data:`SPLIT_SEED`:
    the test share first, then the validation share of the rest."""
    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=test_fraction, stratify=y, random_state=SPLIT_SEED
    )
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest,
        y_rest,
        test_size=val_fraction / (1 - test_fraction),
        stratify=y_rest,
        random_state=SPLIT_SEED,
    )
    return (x_train, y_train), (x_val, y_val), (x_test, y_test)


class ClassificationTask(Task):
    """Classification on fixed splits; the search sees validation accuracy.

    Args:
        name: task name.
        train: ``(x, y)`` used for training.
        val: ``(x, y)`` the search is scored on (``metrics["accuracy"]``).
        test: ``(x, y)`` held out for reporting (``test_metrics["test_accuracy"]``).
        num_classes: number of classes (default: ``max(y) + 1`` over all splits).
        train_config: trainer settings.
        epochs: default training epochs (the fidelity).
        threads: torch threads used while training (pinned for determinism).
        default_targets: reward targets per cost name.
        classes: the class labels, indexed by class number (default ``0..num_classes-1``),
            kept as :attr:`classes`.
    """

    metric: ClassVar[str] = "accuracy"
    higher_is_better: ClassVar[bool] = True

    def __init__(
        self,
        name: str,
        train: Split,
        val: Split,
        test: Split,
        *,
        num_classes: int | None = None,
        train_config: TrainConfig | None = None,
        epochs: int = 10,
        threads: int = 1,
        default_targets: Mapping[str, float] | None = None,
        classes: Sequence[Any] | None = None,
    ) -> None:
        self.name = name
        self._arrays = (train[0], train[1], val[0], val[1], test[0], test[1])
        self._data_hash = data_hash(*self._arrays)
        tensors = [
            torch.as_tensor(np.asarray(a, dtype=np.float32 if i % 2 == 0 else np.int64))
            for i, a in enumerate(self._arrays)
        ]
        self.x_train, self.y_train, self.x_val, self.y_val, self.x_test, self.y_test = tensors
        labels = np.concatenate([train[1], val[1], test[1]])
        self._num_classes = int(num_classes if num_classes is not None else labels.max() + 1)
        self.train_config = train_config or TrainConfig()
        self.fidelities = {"epochs": int(epochs)}
        self.threads = int(threads)
        self.default_targets = dict(default_targets or {})
        self.classes: list[Any] = list(classes if classes is not None else range(self.num_outputs))

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def num_outputs(self) -> int:
        return self._num_classes

    @property
    def data_hash(self) -> str:
        return self._data_hash

    def config(self) -> dict[str, Any]:
        return {"train": self.train_config.to_dict(), "threads": self.threads}

    def training_samples(self, fidelity: Mapping[str, int]) -> int:
        fid = self.check_fidelity(fidelity)
        n = int(self.y_train.shape[0])
        return fid["epochs"] * min(fid.get("train_size", n), n)

    def build(self, architecture: Architecture) -> nn.Module:
        return build_model(architecture)

    def example_input(self, batch_size: int = 1) -> torch.Tensor:
        return self.x_val[:batch_size].clone()

    def batch_key(self, architecture: Architecture, fidelity: Mapping[str, int]) -> Hashable:
        """Plain dense stacks (``mlp``-space networks) at one epoch count train together.

        Only when the training body and data are this class's own (:meth:`_fit`,
        :meth:`training_data`): a subclass that trains differently (other data per fidelity,
        inherited weights) trains one by one unless it says otherwise.
        """
        from darwin_bench.batched import dense_layout

        own = all(
            getattr(type(self), name) is getattr(ClassificationTask, name)
            for name in ("fit", "_fit", "training_data")
        )
        if not own or dense_layout(architecture) is None:
            return None
        return ("dense", self.check_fidelity(fidelity)["epochs"])

    def fit_batch(self, requests: Sequence[FitRequest]) -> list[TaskResult | Exception]:
        """Train plain dense stacks as one batched population
        (:func:`darwin_bench.batched.classify.fit_batch`); others one by one."""
        from darwin_bench.batched import classify

        if any(self.batch_key(a, f) is None for a, _, f in requests):
            return super().fit_batch(requests)
        return classify.fit_batch(self, requests)

    def learning_curves(
        self, requests: Sequence[tuple[Architecture, int]], epochs: int
    ) -> list[LearningCurve]:
        """Plain dense stacks through the batched trainer together (as :meth:`fit_batch` trains
        them: :func:`darwin_bench.batched.classify.learning_curves`), others one by one."""
        from darwin_bench.batched import classify

        fidelity = {"epochs": epochs}
        batched = [
            i for i, (a, _) in enumerate(requests) if self.batch_key(a, fidelity) is not None
        ]
        curves: dict[int, LearningCurve] = {}
        if batched:
            archs, seeds = [requests[i][0] for i in batched], [requests[i][1] for i in batched]
            curves.update(zip(batched, classify.learning_curves(self, archs, seeds, epochs)))
        for i, (architecture, seed) in enumerate(requests):
            if i not in curves:
                curves[i] = self.learning_curve(architecture, seed=seed, epochs=epochs)
        return [curves[i] for i in range(len(requests))]

    def learning_curve(
        self, architecture: Architecture, *, seed: int, epochs: int
    ) -> LearningCurve:
        """:meth:`_fit`'s training run for ``epochs`` epochs, evaluated after every epoch: entry
        ``e - 1`` is exactly :meth:`fit` at ``e`` epochs (the trainer has no schedule, so its
        first ``e`` epochs are an ``e``-epoch run, and evaluating does not touch the training
        state). A subclass with its own training body has no curves (NotImplementedError)."""
        if type(self)._fit is not ClassificationTask._fit:
            return super().learning_curve(architecture, seed=seed, epochs=epochs)
        fidelity = self.check_fidelity({"epochs": epochs})
        self.prepare()
        curve = LearningCurve()
        history: list[float] = []
        start = time.perf_counter()
        evaluating = 0.0  # seconds spent on the other epochs' evaluations (not in a fit)
        with torch_determinism(seed, self.threads):
            x, y = self.training_data(fidelity)
            model = self.build(architecture)

            def record(epoch: int, loss: float) -> None:
                nonlocal evaluating
                began = time.perf_counter()
                history.append(loss)
                try:
                    check_finite_weights(model)
                    metrics, test_metrics = classification_metrics(
                        model,
                        history,
                        (self.x_val, self.y_val),
                        (self.x_test, self.y_test),
                        self.score_split,
                    )
                    curve.add(metrics, test_metrics, time.perf_counter() - start - evaluating)
                except TrainingDiverged as exc:
                    seconds = time.perf_counter() - start - evaluating
                    curve.add({}, {}, seconds, f"{type(exc).__name__}: {exc}")
                evaluating += time.perf_counter() - began

            try:
                train_classifier(
                    model, x, y, epochs=epochs, seed=seed, config=self.train_config, on_epoch=record
                )
            except TrainingDiverged as exc:  # a non-finite loss: every longer fit fails here
                reason = f"{type(exc).__name__}: {exc}"
                while len(curve.metrics) < epochs:
                    curve.add({}, {}, time.perf_counter() - start - evaluating, reason)
        curve.model = model
        return curve

    def training_data(self, fidelity: Mapping[str, int]) -> tuple[torch.Tensor, torch.Tensor]:
        """The training examples used at ``fidelity`` (here: all of them)."""
        return self.x_train, self.y_train

    def score_split(
        self, model: nn.Module, x: torch.Tensor, y: torch.Tensor
    ) -> tuple[float, float]:
        """Accuracy and mean cross-entropy of ``model`` on one split."""
        return evaluate_classifier(model, x, y)

    def _fit(
        self, architecture: Architecture, *, seed: int, fidelity: dict[str, int]
    ) -> TaskResult:
        x, y = self.training_data(fidelity)
        model = self.build(architecture)
        history = train_classifier(
            model, x, y, epochs=fidelity["epochs"], seed=seed, config=self.train_config
        )
        metrics, test_metrics = classification_metrics(
            model, history, (self.x_val, self.y_val), (self.x_test, self.y_test), self.score_split
        )
        return TaskResult(metrics, model, test_metrics=test_metrics)
