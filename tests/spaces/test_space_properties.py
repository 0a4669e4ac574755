"""Property-based: every registered space's operators keep genomes valid.

For any seed, ``sample``, ``mutate``, ``crossover``, ``neighbours`` and a builder-style walk
over ``choice_mask`` give valid, canonical genomes whose ``decode`` then ``encode`` is the same
genome; any array of in-range choices is either valid (and canonicalizes to a fixed point) or
refused with a ``ValueError``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from darwin_bench.spaces import SPACES, make_space

#: Each registered space on the input shape and outputs of a task it serves.
SHAPES = {
    "mlp": ((64,), 10),
    "cnn": ((1, 8, 8), 10),
    "rnn": ((32,), 100),
    "squeeze": ((64,), 10),
    "fcn": ((3, 32, 32), 1),
    "synapses": ((64,), 10),
    "fcn-synapses": ((3, 32, 32), 1),
}
#: Spaces too large for gene-by-gene walks (the synapse masks have 1,344 to 84,480 genes).
LARGE = 1000
#: The 84,480-gene synapse space takes ~2 s an example: a tenth of the profile's examples.
FEW = settings(deadline=None, max_examples=max(5, settings.default.max_examples // 10))


def test_every_registered_space_is_covered() -> None:
    assert set(SHAPES) == set(SPACES)


def space_of(name: str):
    return make_space(name, *SHAPES[name])


def assert_canonical_and_valid(space, genome: np.ndarray) -> None:
    assert space.is_valid(genome)
    assert np.array_equal(space.canonical(genome), genome)
    assert np.array_equal(space.encode(space.decode(genome)), genome)


@pytest.mark.parametrize("name", sorted(n for n in SHAPES if n != "synapses"))
@settings(deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_operators_keep_genomes_valid(name: str, seed: int) -> None:
    check_operators(name, seed)


@FEW
@given(seed=st.integers(0, 2**32 - 1))
def test_synapse_operators_keep_genomes_valid(seed: int) -> None:
    check_operators("synapses", seed)


def check_operators(name: str, seed: int) -> None:
    space = space_of(name)
    rng = np.random.default_rng(seed)
    a, b = space.sample(rng), space.sample(rng)
    for genome in (a, b, space.mutate(a, rng), space.crossover(a, b, rng)):
        assert_canonical_and_valid(space, genome)
    if len(space.genes) <= LARGE:
        for neighbour in space.neighbours(a)[:10]:
            assert_canonical_and_valid(space, neighbour)


@pytest.mark.parametrize("name", sorted(n for n in SHAPES if len(space_of(n).genes) <= LARGE))
@settings(deadline=None)
@given(data=st.data())
def test_builder_walks_over_choice_masks_end_in_valid_genomes(name: str, data) -> None:
    space = space_of(name)
    prefix: list[int] = []
    for _ in space.genes:
        allowed = np.flatnonzero(space.choice_mask(prefix))
        assert len(allowed) > 0
        prefix.append(int(data.draw(st.sampled_from(allowed.tolist()))))
    assert space.is_valid(prefix)
    assert_canonical_and_valid(space, space.canonical(prefix))


@pytest.mark.parametrize("name", sorted(n for n in SHAPES if len(space_of(n).genes) <= LARGE))
@settings(deadline=None)
@given(data=st.data())
def test_any_in_range_genome_is_valid_or_refused(name: str, data) -> None:
    space = space_of(name)
    genome = [data.draw(st.integers(0, int(n) - 1)) for n in space.nvec]
    try:
        valid = space.validate(genome)
    except ValueError:
        return
    assert_canonical_and_valid(space, space.canonical(valid))


@pytest.mark.parametrize("name", sorted(SHAPES))
@settings(deadline=None, max_examples=50)
@given(genome=st.lists(st.integers(-(2**40), 2**40) | st.floats(allow_nan=True), max_size=12))
def test_malformed_genomes_raise_value_error(name: str, genome: list) -> None:
    space = space_of(name)
    try:
        space.validate(genome)
    except ValueError:
        return
    assert len(genome) == len(space.genes)
