"""Specialization: squeezed networks are smaller and inherit the base's weights; the GA mode and
the reproduction command work end to end with tiny settings."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from baselines.base import EnvFactory
from baselines.ga import GAConfig, GeneticAlgorithm
from darwin_bench.cli import main as cli_main
from darwin_bench.costs import count_params
from darwin_bench.seeding import torch_determinism
from darwin_bench.spaces.squeeze import SqueezeSpace
from darwin_bench.tasks.specialization import linear_layers, neuron_scores, squeeze_mlp
from envs.tasks import make_task

TASK_KWARGS = {"base_hidden": [32, 32], "base_classes": [0, 1, 2, 3, 4], "base_epochs": 3}
ENV = "darwin_bench/Digits-MLP-Specialize-v0"
ENV_KWARGS = {
    "epochs": 1,
    "measure_latency": False,
    "task_kwargs": TASK_KWARGS,
    "space_kwargs": {"base_hidden": [32, 32]},
}


@pytest.fixture(scope="module")
def task():
    return make_task("digits-specialize", TASK_KWARGS)


@pytest.fixture(scope="module")
def space(task):
    return SqueezeSpace(task.input_shape, task.num_outputs, base_hidden=[32, 32])


def test_squeezed_network_is_smaller_and_inherits_weights(task, space) -> None:
    base = task.base_model()
    genome = np.array([space.keep.index(0.5), space.keep.index(0.25)])
    architecture = space.decode(genome)
    with torch_determinism(0):
        model = squeeze_mlp(base, architecture.extra["keep"], architecture)
    assert count_params(model) < count_params(base)
    new, old = linear_layers(model), linear_layers(base)
    assert [m.out_features for m in new] == [16, 8, 10]
    scores = neuron_scores(base)
    first = torch.sort(torch.argsort(-scores[0], stable=True)[:16]).values
    second = torch.sort(torch.argsort(-scores[1], stable=True)[:8]).values
    assert torch.equal(new[0].weight, old[0].weight[first])  # inherited, highest scores kept
    assert torch.equal(new[0].bias, old[0].bias[first])
    assert torch.equal(new[1].weight, old[1].weight[second][:, first])
    kept = scores[0][first]
    dropped = np.setdiff1d(np.arange(32), first.numpy())
    assert kept.min() >= scores[0][dropped].max()  # the lowest-magnitude neurons are dropped


def test_removed_layer_is_bridged_by_equal_widths(task, space) -> None:
    base = task.base_model()
    architecture = space.decode([0, space.keep.index(1.0)])  # first hidden layer removed
    with torch_determinism(0):
        model = squeeze_mlp(base, architecture.extra["keep"], architecture)
    (hidden, _) = linear_layers(model)
    assert hidden.in_features == 64 and hidden.out_features == 32
    assert not torch.equal(hidden.weight, linear_layers(base)[1].weight)  # 64 != 32: fresh


def test_fit_refits_the_output_and_is_deterministic(task, space) -> None:
    architecture = space.decode([space.keep.index(0.5), space.keep.index(0.5)])
    first = task.fit(architecture, seed=3, fidelity={"epochs": 1})
    second = task.fit(architecture, seed=3, fidelity={"epochs": 1})
    assert first.metrics == second.metrics
    assert first.metrics["refit_accuracy"] > 0.5  # base trained on 5 classes, head refit on 10
    assert first.test_metrics["test_accuracy"] > 0.5


def test_ga_specialization_starts_from_the_base(tmp_path: Path) -> None:
    factory = EnvFactory(ENV, {**ENV_KWARGS, "budget": 6}, [])
    agent = GeneticAlgorithm(GAConfig(population_size=3, specialize=True))
    agent.run(factory, seed=0)
    evaluated = [ind.genome for ind in agent.generations[0]]
    assert any(np.array_equal(g, [7, 7]) for g in evaluated)  # the base itself
    all_genomes = [ind.genome for pool in agent.generations for ind in pool]
    assert sum(len(pool) for pool in agent.generations) == 6 + len(agent.generations) - 1
    assert any(int(g.max()) < 7 for g in all_genomes)  # squeezed children


def test_reproduce_command_prints_the_contract_keys(tmp_path: Path, capsys) -> None:
    options = {
        "budget": 4,
        "population_size": 2,
        "finetune_epochs": 1,
        "base_epochs": 2,
        "large_epochs": 2,
        "base_hidden": [32, 32],
        "latency_rounds": 1,
    }
    code = cli_main(
        [
            "reproduce",
            "specialization",
            "--json",
            "--out",
            str(tmp_path),
            "--options",
            json.dumps(options),
        ]
    )
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert {"latency_ratio", "size_ratio", "error_difference"} <= set(result)
    spec, large = result["specialized"], result["large"]
    assert result["size_ratio"] == pytest.approx(large["params"] / spec["params"])
    assert result["error_difference"] == pytest.approx(large["test_error"] - spec["test_error"])
    assert spec["reproduced_exactly"] is True
    assert Path(result["plot"]).stat().st_size > 0


def test_reproduce_rejects_unknown_names_and_options(tmp_path: Path, capsys) -> None:
    assert cli_main(["reproduce", "nope", "--out", str(tmp_path)]) == 2
    assert "specialization" in capsys.readouterr().err
    assert (
        cli_main(
            ["reproduce", "specialization", "--out", str(tmp_path), "--options", '{"budgett": 1}']
        )
        == 2
    )
    assert "budgett" in capsys.readouterr().err
