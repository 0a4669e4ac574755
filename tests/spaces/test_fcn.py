from __future__ import annotations

import numpy as np
import pytest
import torch

from darwin_bench.costs import count_flops
from darwin_bench.models import build_model
from darwin_bench.models.fcn import build_fcn
from darwin_bench.spaces import make_space
from darwin_bench.spaces.fcn import FCNSpace, max_depth


@pytest.fixture
def space() -> FCNSpace:
    return make_space("fcn", (3, 32, 32), 1)  # type: ignore[return-value]


def genome(space: FCNSpace, channels: list[int], **globals_: object) -> np.ndarray:
    layers = [{"channels": c, "kernel": 3, "convs": 1} for c in channels]
    defaults = {
        "downsample": "stride",
        "upsample": "bilinear",
        "skip": True,
        "activation": "relu",
        "norm": "batch",
    }
    return space.encode(space.build_architecture(layers, {**defaults, **globals_}))


def test_every_sample_builds_and_maps_to_input_resolution(space: FCNSpace) -> None:
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(60):
        g = space.sample(rng)
        arch = space.decode(g)
        assert np.array_equal(space.encode(arch), g)
        model = build_model(arch)
        out = model(torch.rand(2, 3, 32, 32))
        assert out.shape == (2, 1, 32, 32)
        seen.add(len(space.split(g)[0]))
    assert seen == {1, 2, 3}


@pytest.mark.parametrize("down", ["stride", "maxpool", "avgpool"])
@pytest.mark.parametrize("up", ["transposed", "bilinear"])
def test_every_down_and_up_mode_builds(space: FCNSpace, down: str, up: str) -> None:
    arch = space.decode(genome(space, [8, 16], downsample=down, upsample=up))
    model = build_fcn(arch)
    kinds = {type(m).__name__ for m in model.modules()}
    assert ("ConvTranspose2d" in kinds) == (up == "transposed")
    assert ("Upsample" in kinds) == (up == "bilinear")
    assert ("MaxPool2d" in kinds) == (down == "maxpool")
    assert ("AvgPool2d" in kinds) == (down == "avgpool")
    assert model(torch.rand(1, 3, 32, 32)).shape == (1, 1, 32, 32)


def test_skip_connections_add_fusion_convs_and_use_the_input(space: FCNSpace) -> None:
    with_skip = build_fcn(space.decode(genome(space, [8, 16], skip=True)))
    without = build_fcn(space.decode(genome(space, [8, 16], skip=False)))
    assert sum(p.numel() for p in with_skip.parameters()) > sum(
        p.numel() for p in without.parameters()
    )
    # The last fusion conv sees the upsampled features (8 channels) plus the 3-channel input.
    fuse_in = [m.in_channels for m in with_skip.fuse.modules() if isinstance(m, torch.nn.Conv2d)]
    assert fuse_in == [8 + 8, 8 + 3]


def test_flops_grow_with_channels_and_are_counted(space: FCNSpace) -> None:
    x = torch.rand(1, 3, 32, 32)
    small = count_flops(build_fcn(space.decode(genome(space, [8]))), x)
    large = count_flops(build_fcn(space.decode(genome(space, [32, 32]))), x)
    assert 0 < small < large


def test_mutation_and_crossover_stay_valid(space: FCNSpace) -> None:
    rng = np.random.default_rng(1)
    for _ in range(50):
        a, b = space.sample(rng), space.sample(rng)
        child = space.mutate(a, rng)
        assert space.is_valid(child) and space.decode(child) != space.decode(a)
        assert space.is_valid(space.crossover(a, b, rng))


def test_depth_is_limited_by_the_input_size() -> None:
    assert max_depth(32, 32) == 4
    assert max_depth(24, 16) == 3  # 12x8, 6x4, 3x2
    assert make_space("fcn", (3, 12, 12), 1).max_layers == 2  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="max_layers must be <= 2"):
        make_space("fcn", (3, 12, 12), 1, max_layers=3)
    with pytest.raises(ValueError, match="even"):
        make_space("fcn", (3, 7, 7), 1)
    with pytest.raises(ValueError, match="input_shape"):
        make_space("fcn", (64,), 1)


def test_architectures_from_elsewhere_are_rejected(space: FCNSpace) -> None:
    cnn = make_space("cnn", (3, 32, 32), 1).sample(np.random.default_rng(0))
    with pytest.raises(ValueError, match="space"):
        space.encode(make_space("cnn", (3, 32, 32), 1).decode(cnn))
    arch = space.decode(genome(space, [8, 16]))
    bad = type(arch).from_dict({**arch.to_dict(), "layers": list(arch.layers)[1:]})
    with pytest.raises(ValueError, match="fcn layers"):
        build_fcn(bad)
