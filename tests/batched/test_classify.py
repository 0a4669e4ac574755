"""Batched training on a classification task: the library entry point and ``Task.fit_batch``."""

from __future__ import annotations

import numpy as np
import pytest

from darwin_bench.batched.classify import train_classifiers
from darwin_bench.spaces import make_space
from darwin_bench.tasks import TaskResult
from darwin_bench.tasks.base import TrainingDiverged


@pytest.fixture(scope="module")
def architectures():
    space = make_space("mlp", (64,), 10)
    rng = np.random.default_rng(3)
    return [space.decode(space.sample(rng)) for _ in range(4)]


def test_per_epoch_metrics_equal_shorter_trainings(digits_task, architectures) -> None:
    """With a constant learning rate, epoch e of a long run is exactly a run of e epochs."""
    seeds = [1, 2, 3, 4]
    long = train_classifiers(digits_task, architectures, seeds, epochs=3)
    short = train_classifiers(digits_task, architectures, seeds, epochs=2, every_epoch=False)
    for a, b in zip(long, short):
        assert [e["epoch"] for e in a.evaluations] == [1.0, 2.0, 3.0]
        assert a.evaluations[1] == b.evaluations[-1]
        assert set(a.evaluations[0]) == {
            "epoch",
            "train_loss",
            "val_accuracy",
            "val_loss",
            "test_accuracy",
            "test_loss",
        }


def test_fit_batch_returns_task_results_with_test_metrics_apart(digits_task, architectures) -> None:
    requests = [(a, 7, {"epochs": 2}) for a in architectures]
    results = digits_task.fit_batch(requests)
    assert all(isinstance(r, TaskResult) for r in results)
    first = results[0]
    assert set(first.metrics) == {"accuracy", "val_loss", "train_loss"}
    assert set(first.test_metrics) == {"test_accuracy", "test_loss"}
    assert first.details == {"epochs": 2, "trainer": "batched"}
    alone = digits_task.fit_batch(requests[2:3])[0]
    assert alone.metrics == results[2].metrics and alone.test_metrics == results[2].test_metrics


def test_batch_keys(digits_task, architectures) -> None:
    key = digits_task.batch_key(architectures[0], {"epochs": 2})
    assert key == digits_task.batch_key(architectures[1], {"epochs": 2}) is not None
    assert digits_task.batch_key(architectures[0], {"epochs": 3}) != key
    cnn = make_space("cnn", (1, 8, 8), 10)
    assert digits_task.batch_key(cnn.decode(cnn.sample(np.random.default_rng(0))), {}) is None


def test_a_diverging_network_is_a_training_diverged_result(digits_task, architectures) -> None:
    from darwin_bench.tasks import ClassificationTask
    from darwin_bench.tasks.digits import digits_splits

    (x, y), val, test = digits_splits()
    overflowing = ClassificationTask("huge", (x * 1e38, y), val, test, epochs=2)
    results = overflowing.fit_batch([(a, 1, {"epochs": 2}) for a in architectures])
    assert [type(r) for r in results] == [TaskResult] * 3 + [TrainingDiverged]
    assert str(results[3]) == "loss became inf in epoch 1"
    with pytest.raises(TrainingDiverged, match="loss became inf in epoch 1"):  # as per model
        overflowing.fit(architectures[3], seed=1, fidelity={"epochs": 2})
