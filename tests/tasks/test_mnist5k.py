"""The MNIST5k task and its ancestor task: fixed stratified splits, shapes, the 125x target."""

from __future__ import annotations

import numpy as np

from darwin_bench.tasks.ancestor import MNIST5kAncestorTask
from darwin_bench.tasks.mnist5k import MNIST5kTask, mnist5k_splits


def test_split_is_fixed_stratified_60_20_20() -> None:
    train, val, test = mnist5k_splits()
    assert [len(y) for _, y in (train, val, test)] == [3000, 1000, 1000]
    for _, y in (train, val, test):
        counts = np.bincount(y, minlength=10)
        assert counts.min() == counts.max()  # every digit equally often
    again = mnist5k_splits()
    assert all(np.array_equal(a[0], b[0]) for a, b in zip((train, val, test), again))
    assert train[0].shape[1] == 784 and train[0].min() >= 0.0 and train[0].max() <= 1.0


def test_task_shapes_and_hash() -> None:
    flat, image = MNIST5kTask(), MNIST5kTask(image=True)
    assert flat.input_shape == (784,) and image.input_shape == (1, 28, 28)
    assert flat.num_outputs == 10 and flat.name == "mnist5k"
    assert flat.data_hash != image.data_hash  # the layout is part of the data


def test_ancestor_task_is_lenet_300_100_with_a_125x_target() -> None:
    task = MNIST5kAncestorTask(ancestor_epochs=1)
    assert task.name == "mnist5k-ancestor"
    assert task.space.shapes == ((300, 784), (100, 300), (10, 100))
    assert task.space.size == 266_200
    assert task.default_targets["synapses"] == 266_200 / 125
