"""MNIST / Fashion-MNIST / CIFAR-10 tasks, on generated files in the real formats.

``tests/conftest.py`` points the dataset sources at the stand-ins of ``tests/synthetic_images``
(300 training and 100 test images each); the real download cache, checksums and parsers read
them. The offline test at the end keeps the published sources.
"""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

from darwin_bench.architecture import Architecture
from darwin_bench.data import images
from darwin_bench.data.download import DatasetUnavailableError
from darwin_bench.spaces import make_space
from darwin_bench.tasks.images import ImageTask


@pytest.fixture(scope="module")
def mnist(synthetic_image_sources: dict, tmp_path_factory: pytest.TempPathFactory) -> ImageTask:
    # Module-scoped, so built before the per-test stand-in patch of conftest: patch here too.
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(images.SOURCES, "mnist", synthetic_image_sources["mnist"])
        return ImageTask("mnist", cache=tmp_path_factory.mktemp("mnist-cache"))


def test_splits_shapes_and_normalization(mnist: ImageTask) -> None:
    assert mnist.input_shape == (1, 28, 28) and mnist.num_outputs == 10
    # 300 training images: a fifth (60, stratified) is carved out for validation.
    assert mnist.x_train.shape[0] == 240 and mnist.x_val.shape[0] == 60
    assert mnist.x_test.shape[0] == 100
    assert torch.bincount(mnist.y_val, minlength=10).tolist() == [6] * 10
    assert abs(float(mnist.x_train.mean())) < 1e-4
    assert float(mnist.x_train.std()) == pytest.approx(1.0, abs=1e-3)
    assert mnist.fidelities == {"epochs": 2, "train_size": 240}
    assert mnist.example_input(3).shape == (3, 1, 28, 28)


def test_split_is_fixed_and_hash_pinned(mnist: ImageTask) -> None:
    again = ImageTask("mnist")
    assert again.data_hash == mnist.data_hash
    assert torch.equal(again.x_val, mnist.x_val) and torch.equal(again.y_train, mnist.y_train)
    assert ImageTask("fashion-mnist").data_hash != mnist.data_hash
    assert mnist.spec()["config"]["source_sha256"] == mnist.source_sha256


def test_cifar_is_channels_first() -> None:
    task = ImageTask("cifar10")
    assert task.input_shape == (3, 32, 32)
    # The stand-in stores (grey, grey // 2, 255 - grey): the third channel mirrors the first.
    first, third = task.x_train[:, 0].flatten(), task.x_train[:, 2].flatten()
    assert float(torch.corrcoef(torch.stack([first, third]))[0, 1]) < -0.99


SMALL_NETS = {
    "mlp": [{"type": "flatten"}, {"type": "dense", "units": 64, "activation": "relu"}],
    "cnn": [
        {"type": "conv2d", "filters": 8, "kernel": 3, "activation": "relu"},
        {"type": "maxpool2d", "size": 2},
        {"type": "flatten"},
    ],
}


@pytest.mark.parametrize("space", ["mlp", "cnn"])
def test_networks_learn_the_labels(mnist: ImageTask, space: str) -> None:
    sp = make_space(space, mnist.input_shape, mnist.num_outputs)
    layers = [*SMALL_NETS[space], {"type": "dense", "units": 10, "activation": None}]
    arch = sp.decode(sp.encode(Architecture(space, (1, 28, 28), 10, tuple(layers))))
    result = mnist.fit(arch, seed=0, fidelity={"epochs": 10})
    assert result.metrics["accuracy"] > 0.6  # chance is 0.1
    assert result.test_metrics["test_accuracy"] > 0.6


def test_train_size_fidelity_uses_a_fixed_prefix(mnist: ImageTask) -> None:
    sp = make_space("mlp", mnist.input_shape, mnist.num_outputs)
    arch = sp.decode(sp.sample(np.random.default_rng(1)))
    small = mnist.fit(arch, seed=0, fidelity={"epochs": 1, "train_size": 50})
    assert small.details == {"epochs": 1, "train_size": 50}
    again = mnist.fit(arch, seed=0, fidelity={"epochs": 1, "train_size": 50})
    assert small.metrics == again.metrics
    with pytest.raises(ValueError, match="train_size"):
        mnist.check_fidelity({"train_size": 0})


def test_image_env_steps(mnist: ImageTask) -> None:
    env = gym.make("darwin_bench/MNIST-CNN-v0", epochs=1, budget=1)
    env.reset(seed=0)
    _, _, _, _, info = env.step(env.unwrapped.search_space.sample(np.random.default_rng(0)))
    assert info["status"] == "ok" and "accuracy" in info["metrics"]
    assert "test_accuracy" not in info["metrics"]
    assert info["architecture"]["input_shape"] == [1, 28, 28]


def test_bad_input() -> None:
    with pytest.raises(ValueError, match=r"dataset must be one of .*'svhn'"):
        ImageTask("svhn")
    with pytest.raises(ValueError, match="val_size"):
        ImageTask("mnist", val_size=-1)


@pytest.mark.real_image_sources
@pytest.mark.parametrize("dataset", ["mnist", "fashion-mnist", "cifar10"])
def test_offline_without_data_is_a_clear_error(
    dataset: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DARWIN_BENCH_OFFLINE", "1")
    with pytest.raises(DatasetUnavailableError, match="DARWIN_BENCH_OFFLINE"):
        ImageTask(dataset, cache=tmp_path)


@pytest.mark.real_image_sources
def test_offline_image_env_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DARWIN_BENCH_OFFLINE", "1")
    monkeypatch.setenv("DARWIN_BENCH_DATA", str(tmp_path))
    with pytest.raises(DatasetUnavailableError, match=r"place it, named"):
        gym.make("darwin_bench/CIFAR10-CNN-v0", task_kwargs={"cache": str(tmp_path)})


@pytest.mark.real_image_sources
def test_offline_cli_is_one_line_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from darwin_bench.cli import main

    monkeypatch.setenv("DARWIN_BENCH_OFFLINE", "1")
    monkeypatch.setenv("DARWIN_BENCH_DATA", str(tmp_path))
    argv = ["evaluate", "--env", "darwin_bench/FashionMNIST-MLP-v0", "--genome", "0"]
    assert main([*argv, "--env-kwargs", f'{{"task_kwargs": {{"cache": "{tmp_path}"}}}}']) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert f"fashion-mnist is not in the data cache ({tmp_path})" in err
