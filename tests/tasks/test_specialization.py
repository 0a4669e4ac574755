"""Specialization tasks: squeezed networks inherit the base's weights (MLP and CNN bases), the
output is refit, results are deterministic; the position pretext measures what it says."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from darwin_bench.costs import count_params
from darwin_bench.seeding import torch_determinism
from darwin_bench.spaces.squeeze import SqueezeSpace
from darwin_bench.tasks.pretext import PositionPretext
from darwin_bench.tasks.specialization import squeeze_network, unit_scores, weight_layers
from envs.tasks import make_task

DIGITS = {"base_hidden": [32, 32], "base_classes": [0, 1, 2, 3, 4], "base_epochs": 3}
CONV = [{"filters": 8}, {"filters": 8}, {"filters": 12}]
OBJECTS = {
    "base_conv": CONV,
    "base_hidden": [16],
    "base_epochs": 1,
    "pretext_scenes": 120,
    "target_kwargs": {"labelled": 60, "val": 40, "test": 40, "size": 16},
}


@pytest.fixture(scope="module")
def digits():
    return make_task("digits-specialize", DIGITS)


@pytest.fixture(scope="module")
def objects():
    return make_task("objects-specialize", OBJECTS)


def _space(task) -> SqueezeSpace:
    return SqueezeSpace(
        task.input_shape, task.num_outputs, base_conv=task.base_conv, base_hidden=task.base_hidden
    )


def test_mlp_squeeze_keeps_the_highest_scoring_neurons(digits) -> None:
    space = _space(digits)
    base = digits.base_model()
    architecture = space.decode([space.keep.index(0.5), space.keep.index(0.25)])
    with torch_determinism(0):
        model = squeeze_network(base, architecture.extra["keep"], architecture)
    assert count_params(model) < count_params(base)
    new, old = weight_layers(model), weight_layers(base)
    assert [m.out_features for m in new] == [16, 8, 10]
    scores = unit_scores(base)
    first = torch.sort(torch.argsort(-scores[0], stable=True)[:16]).values
    second = torch.sort(torch.argsort(-scores[1], stable=True)[:8]).values
    assert torch.equal(new[0].weight, old[0].weight[first])
    assert torch.equal(new[0].bias, old[0].bias[first])
    assert torch.equal(new[1].weight, old[1].weight[second][:, first])
    dropped = np.setdiff1d(np.arange(32), first.numpy())
    assert scores[0][first].min() >= scores[0][dropped].max()


def test_a_removed_layer_is_bridged_only_by_equal_widths(digits) -> None:
    space = _space(digits)
    architecture = space.decode([0, space.keep.index(1.0)])
    with torch_determinism(0):
        model = squeeze_network(digits.base_model(), architecture.extra["keep"], architecture)
    hidden = weight_layers(model)[0]
    assert hidden.in_features == 64 and hidden.out_features == 32
    assert not torch.equal(hidden.weight, weight_layers(digits.base_model())[1].weight)


def test_digits_fit_refits_the_output_and_is_deterministic(digits) -> None:
    space = _space(digits)
    architecture = space.decode([space.keep.index(0.5), space.keep.index(0.5)])
    first = digits.fit(architecture, seed=3, fidelity={"epochs": 1})
    second = digits.fit(architecture, seed=3, fidelity={"epochs": 1})
    assert first.metrics == second.metrics
    assert first.metrics["refit_accuracy"] > 0.5  # base trained on 5 classes, head refit on 10
    assert first.test_metrics["test_accuracy"] > 0.5
    assert digits.base_metrics()["accuracy"] > 0.8  # on the validation digits 0-4


def test_cnn_squeeze_maps_channels_through_the_flatten(objects) -> None:
    # Drop the lowest-scoring half of the last conv's channels. The squeezed network (with the
    # base's head copied in) must compute exactly what the base computes once the dropped
    # channels' outgoing weights are zeroed: the flattened columns are mapped correctly.
    space = _space(objects)
    base = objects.base_model()
    genome = space.base_genome()
    genome[2] = space.keep.index(0.5)
    architecture = space.decode(genome)
    squeezed = squeeze_network(base, architecture.extra["keep"], architecture)
    kept = torch.sort(torch.argsort(-unit_scores(base)[2], stable=True)[:6]).values
    reference = copy.deepcopy(base)
    dense = weight_layers(reference)[3]
    with torch.no_grad():
        view = dense.weight.view(dense.out_features, 12, -1)
        dropped = [c for c in range(12) if c not in kept.tolist()]
        view[:, dropped] = 0.0
    head = nn.Linear(16, 2)
    head.load_state_dict(weight_layers(base)[-1].state_dict())
    squeezed[-1] = head
    x = objects.example_input(4)
    squeezed.eval()
    torch.testing.assert_close(squeezed(x), reference(x), rtol=1e-5, atol=1e-6)


def test_cnn_removed_conv_of_equal_width_is_bridged(objects) -> None:
    space = _space(objects)
    genome = space.base_genome()
    genome[1] = 0  # 8 -> [8] -> 12: the third conv reads the first's 8 channels directly
    architecture = space.decode(genome)
    squeezed = squeeze_network(objects.base_model(), architecture.extra["keep"], architecture)
    third = weight_layers(squeezed)[1]
    assert torch.equal(third.weight, weight_layers(objects.base_model())[2].weight)


def test_objects_fit_is_deterministic_and_reports_the_base(objects) -> None:
    space = _space(objects)
    genome = space.base_genome()
    genome[3] = 0
    first = objects.fit(space.decode(genome), seed=1, fidelity={"epochs": 1})
    again = objects.fit(space.decode(genome), seed=1, fidelity={"epochs": 1})
    assert first.metrics == again.metrics and "refit_accuracy" in first.metrics
    base = objects.base_metrics()
    assert base["scenes"] == 108 and 0 < base["position_error_px"] < 16
    assert objects.config()["pretext"] == {"name": "position", "scenes": 108, "held_out": 12}


def test_fit_refuses_an_architecture_of_another_base(objects, digits) -> None:
    architecture = _space(digits).decode(_space(digits).base_genome())
    with pytest.raises(ValueError, match="not squeezed from this base"):
        objects.fit(architecture, seed=0, fidelity={"epochs": 1})


def test_position_error_is_in_pixels() -> None:
    images = np.zeros((20, 1, 10, 10), np.float32)
    positions = np.random.default_rng(0).uniform(0.2, 0.8, (20, 2)).astype(np.float32)
    pretext = PositionPretext(images, positions, val_fraction=0.5)

    class Constant(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.full((len(x), 2), 0.5) + torch.tensor([0.3, 0.4])

    expected = np.linalg.norm(positions[10:] - [0.8, 0.9], axis=1).mean() * 10
    assert pretext.evaluate(Constant())["position_error_px"] == pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError, match="positions"):
        PositionPretext(images, positions[:5])
