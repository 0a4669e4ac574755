"""ONNX Runtime deployment: every built-in space exports and matches PyTorch; failures are clear."""

from __future__ import annotations

from collections.abc import Hashable, Mapping

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch import nn

from darwin_bench.architecture import Architecture
from darwin_bench.costs import CostConfig, LatencyError, OnnxConfig, measure_costs
from darwin_bench.costs.onnx_runtime import deploy, export_onnx, parity_error, session
from darwin_bench.evaluation import EvalRequest, Evaluator
from darwin_bench.perf.networks import build
from darwin_bench.spaces import make_space
from darwin_bench.tasks import DigitsTask
from envs.registration import ENVS
from envs.tasks import make_task


def _registry_problems() -> dict[str, dict]:
    """The env kwargs (at test settings) of each distinct task and space of the registry."""
    out: dict[str, dict] = {}
    for entry in ENVS:
        kwargs = {**entry.kwargs, **entry.test_kwargs}
        if isinstance(kwargs.get("task"), str) and "space" in kwargs:
            out.setdefault(f"{kwargs['task']}/{kwargs['space']}", kwargs)
    return out


PROBLEMS = _registry_problems()


def _problem(name: str) -> tuple:
    """The task and space of a registry problem (built inside a test: image stand-ins apply)."""
    kwargs = PROBLEMS[name]
    task = make_task(kwargs["task"], kwargs.get("task_kwargs"))
    space = make_space(
        kwargs["space"], task.input_shape, task.num_outputs, **kwargs.get("space_kwargs", {})
    )
    return task, space


def test_every_space_of_the_registry_is_covered() -> None:
    spaces = {name.split("/")[1] for name in PROBLEMS}
    assert {"mlp", "cnn", "rnn", "fcn", "synapses", "fcn-synapses", "squeeze"} <= spaces


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_random_networks_of_every_space_export_and_match_pytorch(name: str) -> None:
    task, space = _problem(name)
    rng = np.random.default_rng(0)
    architectures = [space.decode(space.sample(rng)) for _ in range(2)]
    if space.name == "rnn":  # make sure delayed connections are exported too
        while not any(a.connections for a in architectures):
            architectures.append(space.decode(space.sample(rng)))
        architectures = [a for a in architectures if a.connections][:1] + architectures[:1]
    for architecture in architectures:
        model = build(task, architecture)
        model.train()
        deployed = deploy(model, task.example_input(1))
        assert 0.0 <= deployed.parity <= 1.0
        assert model.training  # the export put it in eval mode and back


def test_masked_weights_are_deployed_as_masked() -> None:
    task, space = _problem("digits-ancestor/synapses")
    genome = np.zeros(space.action_space.shape, dtype=np.int8)
    genome[::3] = 1  # a third of the synapses survive
    model = build(task, space.decode(genome))
    x = task.example_input(1)
    got = deploy(model, x).session.run(None, {"input": x.numpy()})[0]
    with torch.no_grad():
        np.testing.assert_allclose(got, model(x).numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["digits-ancestor/synapses", "saliency-ancestor/fcn-synapses"])
@pytest.mark.parametrize("kept", ["all", "a third", "none"])
def test_compacted_and_uncompacted_synapse_networks_export(name: str, kept: str) -> None:
    """Compact networks (all or some synapses kept) and the uncompacted masked network a task
    builds when a mask empties a hidden layer (nothing kept) all deploy and match PyTorch."""
    task, space = _problem(name)
    genome = np.zeros(space.action_space.shape, dtype=np.int8)
    if kept != "none":
        genome[:: 1 if kept == "all" else 3] = 1
    model = build(task, space.decode(genome))
    x = task.example_input(1)
    deployed = deploy(model, x)
    assert 0.0 <= deployed.parity <= 1.0
    with torch.no_grad():
        expected = model(x).numpy()
    got = deployed.session.run(None, {"input": x.numpy()})[0]
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def _mlp(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 4))


def test_parity_tolerance() -> None:
    model, x = _mlp(0), torch.randn(1, 8)
    config = OnnxConfig()
    close, far = _mlp(0), _mlp(0)
    with torch.no_grad():
        close[2].bias.add_(1e-7)  # float32 noise: within atol + rtol * max|y|
        far[2].bias.add_(1e-2)  # a real difference
    assert parity_error(model, x, session(export_onnx(close, x), 1), config) < 1.0
    with pytest.raises(LatencyError, match="differs from PyTorch by .* > tolerance"):
        parity_error(model, x, session(export_onnx(far, x), 1), config)
    with pytest.raises(LatencyError, match="shape"):
        parity_error(model, x, session(export_onnx(nn.Linear(8, 3), x), 1), config)


class _Unexportable(nn.Module):
    """A network with an operator ONNX has no export for (a real FFT)."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(8, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x) + torch.fft.rfft(x).abs()


def test_an_export_that_fails_is_a_clear_latency_error() -> None:
    with pytest.raises(LatencyError, match="ONNX export \\(torchscript exporter\\) failed.*fft"):
        measure_costs(_Unexportable(), torch.randn(1, 8))
    costs = measure_costs(_Unexportable(), torch.randn(1, 8), CostConfig(latency=False))
    assert "latency_ms" not in costs and costs["params"] == 45


def test_outputs_that_are_not_tensors_are_refused() -> None:
    class Dict(nn.Module):
        def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
            return {"y": x * 2}

    with pytest.raises(LatencyError):
        deploy(Dict(), torch.randn(1, 3))


class _SpectralHead(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.fft.rfft(x[:, :8]).abs()


class _UnexportableDigits(DigitsTask):
    """Digits whose networks start with an FFT that ONNX cannot export."""

    def build(self, architecture: Architecture) -> nn.Module:
        return nn.Sequential(nn.Flatten(), _SpectralHead(), nn.Linear(5, 10))

    def batch_key(self, architecture: Architecture, fidelity: Mapping[str, int]) -> Hashable:
        return None  # its networks are not the architecture's MLP: train one by one


def test_a_network_whose_latency_fails_is_a_failed_evaluation() -> None:
    task = _UnexportableDigits()
    space = make_space("mlp", task.input_shape, task.num_outputs)
    architecture = space.decode(space.sample(np.random.default_rng(0)))
    evaluator = Evaluator(task, cost_config=CostConfig(devices=()))
    request = EvalRequest(architecture, seed=0, fidelity={"epochs": 1})
    (evaluation,) = evaluator.evaluate([request])
    assert evaluation.status == "failed"
    assert evaluation.reason.startswith("LatencyError: ONNX export")
    assert "latency_ms" not in evaluation.costs and evaluation.costs["params"] == 60
    assert evaluation.metrics  # the training itself went through
    (again,) = evaluator.evaluate([request])  # deterministic: cached, not retried
    assert evaluator.stats["cache_hits"] == 1 and again.reason == evaluation.reason


def test_an_env_rewards_a_network_whose_latency_failed_as_failed() -> None:
    env = gym.make(
        "darwin_bench/Digits-MLP-v0",
        task=_UnexportableDigits(),
        cost="latency_ms",
        target=0.05,
        budget=1,
        epochs=1,
        latency_repeats=3,
    )
    env.reset(seed=0)
    genome = env.unwrapped.search_space.sample(np.random.default_rng(0))
    _, reward, _, _, info = env.step(genome)
    assert info["status"] == "failed" and info["reason"].startswith("LatencyError")
    assert "latency_ms" not in info["costs"]
    assert np.isfinite(reward)  # the worst score, the unmeasured latency at its target


@pytest.mark.slow
def test_the_dynamo_exporter_is_an_option() -> None:
    model, x = _mlp(0), torch.randn(1, 8)
    deployed = deploy(model, x, config=OnnxConfig(exporter="dynamo"))
    assert deployed.parity <= 1.0
    with pytest.raises(ValueError, match="exporter must be one of"):
        OnnxConfig(exporter="tflite")  # type: ignore[arg-type]
