"""Compaction of masked MLPs and chain FCNs: dead neurons and channels go, the function stays."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from darwin_bench.models.fcn import build_fcn
from darwin_bench.models.masked import EmptyLayerError, MaskedMLP, compact, expand
from darwin_bench.models.masked_fcn import fcn_state, masked_fcn, uncompacted_fcn
from darwin_bench.spaces.fcn_synapses import FCNSynapseSpace


def _mlp(rng: np.random.Generator) -> tuple[list, list[np.ndarray]]:
    shapes = [(6, 4), (5, 6), (3, 5)]
    layers = [(rng.normal(size=s), rng.normal(size=s[0]) + 0.5) for s in shapes]
    return layers, [np.ones(s, dtype=bool) for s in shapes]


def test_compact_mlp_keeps_the_function_and_drops_dead_neurons() -> None:
    rng = np.random.default_rng(0)
    layers, masks = _mlp(rng)
    masks[0][2] = False  # neuron 2 of layer 1: no input, a constant folded into layer 2's bias
    masks[1][:, 4] = False  # neuron 4 of layer 1: no output
    masks[2][:, 1] = False  # neuron 1 of layer 2: no output
    small, small_masks, kept = compact(layers, masks)
    assert [k.tolist() for k in kept] == [[0, 1, 3, 5], [0, 2, 3, 4]]
    x = torch.as_tensor(rng.normal(size=(7, 4)), dtype=torch.float32)
    with torch.no_grad():
        full = MaskedMLP([(w.astype(np.float32), b.astype(np.float32)) for w, b in layers], masks)
        assert torch.allclose(full(x), MaskedMLP(small, small_masks)(x), atol=1e-5)
    back = expand(small, kept, [m.shape for m in masks])
    assert [w.shape for w, _ in back] == [m.shape for m in masks]
    assert not back[0][0][[2, 4]].any() and not back[1][0][:, [2, 4]].any()


def test_compact_raises_when_a_hidden_layer_empties() -> None:
    layers, masks = _mlp(np.random.default_rng(1))
    masks[1][:] = False  # layer 2 has no inputs: every neuron of layer 1 loses its output too
    with pytest.raises(EmptyLayerError, match="hidden layer 1 has no live neuron"):
        compact(layers, masks)
    with pytest.raises(EmptyLayerError):
        compact(layers, [np.zeros_like(m) for m in masks])


@pytest.fixture(params=["bilinear", "transposed"])
def fcn(request: pytest.FixtureRequest) -> tuple[FCNSynapseSpace, list]:
    space = FCNSynapseSpace((3, 32, 32), 1, (16, 32), request.param)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        state = fcn_state(build_fcn(space.ancestor))
    return space, [(w, b + 0.5) for w, b in state]


def test_compact_fcn_drops_channels_without_outputs_exactly(fcn) -> None:
    space, state = fcn
    masks = space.masks(space.full())
    masks[2][:, 7] = False  # channel 7 of conv 2 feeds nothing
    model, kept = masked_fcn(space.ancestor, state, masks)
    assert [len(k) for k in kept] == [16, 31, 16, 16]
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(model(x), uncompacted_fcn(space.ancestor, state, masks)(x), atol=1e-5)


def test_compact_fcn_folds_constant_channels_exactly_away_from_the_border() -> None:
    space = FCNSynapseSpace((3, 32, 32), 1, (16, 32), "bilinear")
    with torch.random.fork_rng():
        torch.manual_seed(0)
        state = [(w, b + 0.5) for w, b in fcn_state(build_fcn(space.ancestor))]
    masks = space.masks(space.full())
    masks[1][3] = False  # channel 3 of conv 2 has no input: it outputs relu(bias) everywhere
    model, kept = masked_fcn(space.ancestor, state, masks)
    assert len(kept[1]) == 31
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        diff = (model(x) - uncompacted_fcn(space.ancestor, state, masks)(x)).abs()
    assert float(diff[..., 4:-4, 4:-4].max()) < 1e-5


def test_masked_fcn_raises_when_a_convolution_empties(fcn) -> None:
    space, state = fcn
    masks = space.masks(space.full())
    masks[3][:] = False
    with pytest.raises(EmptyLayerError):
        masked_fcn(space.ancestor, state, masks)
