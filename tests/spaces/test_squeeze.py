"""The squeeze space over MLP and CNN bases: decoding, removal rules, round trips, errors."""

from __future__ import annotations

import numpy as np
import pytest

from darwin_bench.spaces.squeeze import SqueezeSpace

CONV = [{"filters": 16}, {"filters": 32, "pool": "none"}, {"filters": 32, "kernel": 5}]


@pytest.fixture
def cnn() -> SqueezeSpace:
    return SqueezeSpace((3, 32, 32), 5, base_conv=CONV, base_hidden=[64])


def test_base_genome_decodes_to_the_base(cnn: SqueezeSpace) -> None:
    arch = cnn.decode(cnn.base_genome())
    assert arch.layer_types() == [
        "conv2d", "maxpool2d", "conv2d", "conv2d", "maxpool2d", "flatten", "dense", "dense"
    ]  # fmt: skip
    convs = [la for la in arch.layers if la["type"] == "conv2d"]
    assert [(c["filters"], c["kernel"]) for c in convs] == [(16, 3), (32, 3), (32, 5)]
    assert arch.layers[-1]["units"] == 5 and arch.extra["keep"] == [1.0] * 4
    assert arch.extra["base_conv"][1] == {"filters": 32, "kernel": 3, "pool": "none"}


def test_a_removed_conv_keeps_its_pooling(cnn: SqueezeSpace) -> None:
    genome = cnn.base_genome()
    genome[0] = 0  # remove the first conv; its max-pool stays, the layout the dense reads too
    arch = cnn.decode(genome)
    assert arch.layer_types()[:2] == ["maxpool2d", "conv2d"]
    genome[3] = cnn.keep.index(0.25)
    assert cnn.decode(genome).layers[-2]["units"] == 16


def test_encode_round_trips_and_refuses_other_bases(cnn: SqueezeSpace) -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        genome = cnn.sample(rng)
        assert np.array_equal(cnn.encode(cnn.decode(genome)), genome)
    other = SqueezeSpace((3, 32, 32), 5, base_conv=CONV[:2], base_hidden=[64])
    with pytest.raises(ValueError, match="base_conv"):
        other.encode(cnn.decode(cnn.base_genome()))


def test_mlp_bases_are_unchanged() -> None:
    # Digits-MLP-Specialize-v0's architectures (and so their hashes) predate the conv units.
    space = SqueezeSpace((64,), 10, base_hidden=[32, 32])
    arch = space.decode([space.keep.index(0.5), 7])
    assert arch.extra == {"base_hidden": [32, 32], "keep": [0.5, 1.0]}
    assert [la.get("units") for la in arch.layers] == [16, 32, 10]


@pytest.mark.parametrize(
    ("conv", "message"),
    [
        ([{"filters": 0}], "filters"),
        ([{"filters": 8, "kernel": 2}], "odd"),
        ([{"filters": 8, "pool": "min"}], "pool"),
        ([{"filters": 8, "stride": 2}], "unknown"),
    ],
)
def test_bad_conv_blocks_are_named(conv: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SqueezeSpace((3, 16, 16), 2, base_conv=conv, base_hidden=[])


def test_everything_removed_is_invalid(cnn: SqueezeSpace) -> None:
    assert not cnn.is_valid([0, 0, 0, 0])
    assert cnn.is_valid([0, 0, 0, 1])
