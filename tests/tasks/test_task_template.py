"""`Task.fit` is a template: a task writes only `_fit`; the base owns clock, seeds, result."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from darwin_bench.architecture import Architecture
from darwin_bench.tasks import ClassificationTask, Task, TaskResult
from darwin_bench.tasks.digits import digits_splits

ARCH = Architecture("mlp", (2,), 1, ({"type": "dense", "units": 1, "activation": None},))


class Toy(Task):
    """A task that writes only the training body (and a slow one-time preparation)."""

    name = "toy"
    fidelities = {"epochs": 3}
    threads = 1

    def __init__(self) -> None:
        self.prepared = 0
        self.seen: dict[str, Any] = {}

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (2,)

    @property
    def num_outputs(self) -> int:
        return 1

    @property
    def data_hash(self) -> str:
        return "0" * 64

    def build(self, architecture: Architecture) -> nn.Module:
        return nn.Linear(2, 1)

    def example_input(self, batch_size: int = 1) -> torch.Tensor:
        return torch.zeros(batch_size, 2)

    def prepare(self) -> None:
        if not self.prepared:
            time.sleep(0.3)  # e.g. training an ancestor: must not count as training time
        self.prepared += 1

    def _fit(
        self, architecture: Architecture, *, seed: int, fidelity: dict[str, int]
    ) -> TaskResult:
        self.seen = {"fidelity": dict(fidelity), "threads": torch.get_num_threads()}
        draw = float(torch.rand(()))
        return TaskResult({"accuracy": draw}, self.build(architecture), details={"extra": 1})


def test_fit_owns_the_clock_the_seed_and_the_result() -> None:
    task = Toy()
    before = torch.get_num_threads()
    torch.manual_seed(123)
    outside = torch.rand(())
    torch.manual_seed(123)
    first = task.fit(ARCH, seed=5, fidelity={"epochs": 2})
    assert torch.rand(()) == outside  # the caller's generator is left as it was
    assert torch.get_num_threads() == before
    assert task.seen == {"fidelity": {"epochs": 2}, "threads": 1}
    assert task.prepared == 1
    assert 0.0 < first.train_seconds < 0.3  # prepare() ran before the clock
    assert first.details == {"epochs": 2, "extra": 1}
    again = task.fit(ARCH, seed=5, fidelity={})
    assert again.metrics == first.metrics  # same seed, same draw
    assert again.details["epochs"] == 3  # defaults filled in
    assert task.fit(ARCH, seed=6, fidelity={}).metrics != first.metrics
    with pytest.raises(ValueError, match="fidelity 'steps' is not known to task 'toy'"):
        task.fit(ARCH, seed=5, fidelity={"steps": 1})


def test_task_names_are_per_instance() -> None:
    train, val, test = digits_splits()
    a = ClassificationTask("alpha", train, val, test, epochs=1)
    b = ClassificationTask("beta", train, val, test, epochs=1, classes=list("abcdefghij"))
    assert (a.name, b.name, Task.name) == ("alpha", "beta", "task")
    assert a.classes == list(range(10)) and b.classes[3] == "d"


def test_classification_details_and_test_metrics() -> None:
    train, val, test = digits_splits()
    task = ClassificationTask("digits-small", train, val, test, epochs=1)
    arch = Architecture("mlp", (64,), 10, ({"type": "dense", "units": 10, "activation": None},))
    result = task.fit(arch, seed=0, fidelity={})
    assert result.details == {"epochs": 1}
    assert set(result.metrics) == {"accuracy", "val_loss", "train_loss"}
    assert set(result.test_metrics) == {"test_accuracy", "test_loss"}
    assert np.isfinite(result.train_seconds) and result.train_seconds > 0
