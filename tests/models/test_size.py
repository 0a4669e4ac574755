"""The size guard: network sizes from architectures (exact against the built modules), and
envs that refuse networks over their limits before anything is built."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from darwin_bench.architecture import Architecture
from darwin_bench.costs.counts import count_params
from darwin_bench.models import build_model
from darwin_bench.models.size import SizeLimits, meta_size, network_size
from darwin_bench.spaces import make_space
from envs.tasks import make_task

MLP = "darwin_bench/Digits-MLP-v0"
FAST = {"epochs": 1, "measure_latency": False}

SPACES = {
    "mlp": ("digits", {}),
    "cnn": ("digits", {"image": True}),
    "rnn": ("charlm", {"train_tokens": 4096}),
    "fcn": ("saliency", {"scenes": 60}),
}


def built_size(architecture: Architecture, example: torch.Tensor) -> tuple[int, int]:
    """Parameters and leaf-module output elements of the real module, one forward pass."""
    model = build_model(architecture).eval()
    outputs: list[int] = []

    def count(_, __, output) -> None:
        tensors = output if isinstance(output, tuple) else (output,)
        outputs.extend(t.numel() for t in tensors if isinstance(t, torch.Tensor))

    for module in model.modules():
        if not list(module.children()):
            module.register_forward_hook(count)
    with torch.no_grad():
        model(example)
    return count_params(model), sum(outputs)


@pytest.mark.parametrize("space_name", sorted(SPACES))
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_estimate_is_exact(space_name: str, seed: int) -> None:
    task_name, task_kwargs = SPACES[space_name]
    task = make_task(task_name, task_kwargs)
    space = make_space(space_name, task.input_shape, task.num_outputs)
    architecture = space.decode(space.sample(np.random.default_rng(seed)))
    size = network_size(architecture)
    assert (size.params, size.activations) == built_size(architecture, task.example_input(1))


def test_spaces_without_an_estimator_are_measured_on_the_meta_device() -> None:
    task = make_task("digits")
    architecture = Architecture(
        "plug-in",
        (64,),
        10,
        (
            {"type": "dense", "units": 32, "activation": "relu"},
            {"type": "dense", "units": 10, "activation": None},
        ),
    )
    size = meta_size(architecture)
    assert (size.params, size.activations) == built_size(architecture, task.example_input(1))
    assert network_size(architecture) == size


def test_a_trillion_parameter_network_is_refused_without_being_built(monkeypatch) -> None:
    monkeypatch.setattr(torch.nn.Linear, "__init__", lambda *a, **k: pytest.fail("built"))
    huge = Architecture(
        "mlp", (1_000_000,), 10, ({"type": "dense", "units": 1_000_000, "activation": None},)
    )
    with pytest.raises(ValueError, match=r"1,000,001,000,000 parameters, over max_params="):
        SizeLimits().check(huge)
    with pytest.raises(ValueError, match=r"MB of activations per example, over max_activation_mb"):
        SizeLimits(max_params=None, max_activation_mb=1.0).check(huge)
    assert SizeLimits(None, None).check(huge).params == 1_000_001_000_000


def test_env_refuses_a_genome_over_its_limits_before_building_it(monkeypatch) -> None:
    env = gym.make(MLP, budget=2, max_params=15_000, **FAST)
    core = env.unwrapped.core
    space = env.unwrapped.search_space
    big = [0, 4, 0, 0, 0, 0, 0, 0, 0, 0]  # one hidden layer of 256: 19,210 parameters
    monkeypatch.setattr(core.task, "fit", lambda *a, **k: pytest.fail("trained"))
    monkeypatch.setattr(core.task, "build", lambda *a, **k: pytest.fail("built"))
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"19,210 parameters, over max_params=15,000"):
        env.step(big)
    assert core.budget_used == 0  # nothing was spent
    rng = np.random.default_rng(0)
    for _ in range(50):  # samples, mutations and crossovers stay within the limits
        a, b = space.sample(rng), space.sample(rng)
        for genome in (a, space.mutate(a, rng), space.crossover(a, b, rng)):
            assert network_size(space.decode(genome)).params <= 15_000


def test_builder_env_masks_choices_over_the_limit() -> None:
    env = gym.make("darwin_bench/Digits-MLP-Builder-v0", budget=1, max_params=10_000, **FAST)
    env.reset(seed=0)
    mask = env.unwrapped.action_masks()  # depth gene first: every depth fits with width 16
    env.step(int(np.flatnonzero(mask)[0]))
    widths = env.unwrapped.action_masks()  # width_0 of a 1-layer net: 64*w + w + 10*w + 10
    assert widths[:5].tolist() == [True, True, True, True, False]  # 75 * 256 + 10 > 10,000


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"max_params": 0}, "max_params must be a positive integer"),
        ({"max_params": 2.5}, "'max_params' must be int"),
        ({"max_activation_mb": -1}, "max_activation_mb must be a finite number > 0"),
        ({"max_params": 100}, "no network of space 'mlp' found within max_params=100"),
    ],
)
def test_bad_limits_are_named(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        gym.make(MLP, **kwargs, **FAST)


def test_limits_are_recorded_and_can_be_lifted() -> None:
    env = gym.make(MLP, max_params=None, max_activation_mb=None, **FAST)
    assert env.unwrapped.core.describe()["size_limits"] == {
        "max_params": None,
        "max_activation_mb": None,
    }
