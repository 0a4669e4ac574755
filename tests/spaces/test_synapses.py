"""The synapses space: mask layout, round trips, hashes, validation."""

from __future__ import annotations

import numpy as np
import pytest

from darwin_bench.architecture import Architecture
from darwin_bench.spaces import make_space
from darwin_bench.spaces.synapses import SynapseSpace, pack_mask, unpack_mask


@pytest.fixture
def space() -> SynapseSpace:
    return make_space("synapses", (64,), 10)  # type: ignore[return-value]


def test_default_layout_is_the_84480_synapse_ancestor(space: SynapseSpace) -> None:
    assert space.shapes == ((256, 64), (256, 256), (10, 256))
    assert space.size == 84_480
    assert space.action_space.n == 84_480


def test_decode_encode_round_trip_and_json(space: SynapseSpace) -> None:
    rng = np.random.default_rng(0)
    genome = space.sample(rng)
    arch = space.decode(genome)
    assert np.array_equal(space.encode(arch), genome)
    again = Architecture.from_json(arch.to_json())
    assert again.hash == arch.hash
    assert np.array_equal(space.encode(again), genome)
    assert arch.extra["synapses"] == int(genome.sum())
    assert space.action_space.contains(genome)


def test_hash_depends_on_mask_and_init(space: SynapseSpace) -> None:
    full = space.full()
    one_less = full.copy()
    one_less[12345] = 0
    a, b = space.decode(full), space.decode(one_less)
    assert a.hash != b.hash
    assert space.decode(full.copy()).hash == a.hash
    scratch = space.with_init(a, {"from": "scratch"})
    assert scratch.hash != a.hash
    assert np.array_equal(space.encode(scratch), full)


def test_masks_flatten_round_trip(space: SynapseSpace) -> None:
    genome = space.sample(np.random.default_rng(1))
    masks = space.masks(genome)
    assert [m.shape for m in masks] == list(space.shapes)
    assert np.array_equal(space.flatten(masks), genome)
    # layer 0, neuron 3, input 5 is gene 3 * 64 + 5
    assert masks[0][3, 5] == bool(genome[3 * 64 + 5])


def test_pack_unpack() -> None:
    bits = (np.arange(21) % 3 == 0).astype(np.int8)
    assert np.array_equal(unpack_mask(pack_mask(bits), 21), bits)


def test_bad_genomes_name_the_problem(space: SynapseSpace) -> None:
    with pytest.raises(ValueError, match="84480 synapses"):
        space.validate(np.ones(10))
    bad = space.full().astype(np.int64)
    bad[0] = 2
    with pytest.raises(ValueError, match="0 .* or 1"):
        space.validate(bad)
    with pytest.raises(ValueError, match="mutate"):
        space.neighbours(space.full())


def test_operators_stay_in_the_space(space: SynapseSpace) -> None:
    rng = np.random.default_rng(2)
    a, b = space.sample(rng), space.sample(rng)
    child = space.crossover(a, b, rng)
    assert np.all((child == a) | (child == b))
    mutant = space.mutate(a, rng)
    assert int((mutant != a).sum()) == space.size // 100
