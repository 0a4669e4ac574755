from __future__ import annotations

import numpy as np
import pytest

from darwin_bench.spaces import make_space

SPACES = [("mlp", (64,)), ("cnn", (1, 8, 8))]


@pytest.fixture(params=SPACES, ids=[s[0] for s in SPACES])
def space(request):
    name, shape = request.param
    return make_space(name, shape, 10)


def test_decode_encode_round_trip(space) -> None:
    rng = np.random.default_rng(0)
    for _ in range(100):
        genome = space.sample(rng)
        assert space.action_space.contains(genome)
        assert np.array_equal(space.encode(space.decode(genome)), genome)


def test_canonical_zeroes_inactive_genes(space) -> None:
    genome = np.array(space.nvec - 1)
    genome[0] = 0  # depth = min_layers: later slots are inactive
    canonical = space.canonical(genome)
    assert space.decode(canonical) == space.decode(genome)
    assert not canonical[~space.active_genes(canonical)].any()


def test_mutate_changes_and_stays_valid(space) -> None:
    rng = np.random.default_rng(1)
    depths = set()
    for _ in range(200):
        genome = space.sample(rng)
        child = space.mutate(genome, rng)
        assert space.is_valid(child)
        assert space.decode(child) != space.decode(genome)
        depths.add(int(child[0]) - int(genome[0]))
    assert {-1, 0, 1} <= depths  # remove layer, change a gene, add a layer all happen


def test_one_point_crossover_takes_layers_from_both(space) -> None:
    rng = np.random.default_rng(2)
    a, b = space.sample(rng), space.sample(rng)
    la, _ = space.split(a)
    lb, _ = space.split(b)
    for _ in range(50):
        child = space.crossover(a, b, rng)
        layers, _ = space.split(child)
        assert space.min_layers <= len(layers) <= space.max_layers
        # the child is a prefix of a's layers followed by a suffix of b's
        assert any(
            layers == (la[:i] + lb[j:])[: space.max_layers]
            for i in range(len(la) + 1)
            for j in range(len(lb) + 1)
        )


def test_neighbours_are_distinct_valid_one_step_changes(space) -> None:
    genome = space.sample(np.random.default_rng(3))
    neighbours = space.neighbours(genome)
    keys = {n.tobytes() for n in neighbours}
    assert len(keys) == len(neighbours) > 5
    assert genome.tobytes() not in keys
    assert all(space.is_valid(n) for n in neighbours)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda g: g[:-1], "genome must be a flat sequence"),
        (lambda g: np.concatenate([g, [0]]), "genome must be a flat sequence"),
        (lambda g: g.astype(float) + 0.5, "integers"),
    ],
)
def test_bad_genomes_name_the_problem(space, mutate, message) -> None:
    genome = space.sample(np.random.default_rng(4))
    with pytest.raises(ValueError, match=message):
        space.decode(mutate(genome))


def test_out_of_range_gene_names_gene_and_range(space) -> None:
    genome = space.sample(np.random.default_rng(5))
    genome[1] = space.nvec[1]
    gene = space.genes[1]
    with pytest.raises(
        ValueError, match=rf"genome\[1\] \({gene.name}\) must be in 0\.\.{gene.size - 1}"
    ):
        space.decode(genome)


def test_choice_mask_forces_inactive_genes_and_sizes(space) -> None:
    width = int(space.nvec.max())
    first = space.choice_mask([])
    assert first.shape == (width,)
    assert first[: space.nvec[0]].all() and not first[space.nvec[0] :].any()
    # with depth = min_layers, the genes of the second slot may only take choice 0
    prefix = [0] * (1 + len(space.slot_genes))
    mask = space.choice_mask(prefix)
    assert mask.tolist() == [True] + [False] * (width - 1)


def test_cnn_pooling_never_shrinks_below_one_pixel() -> None:
    space = make_space("cnn", (1, 8, 8), 10)
    genome = space.join([(0, 0, 1, 0)] * 3, (0, 0))  # three max-pooling blocks on 8x8
    arch = space.decode(genome)
    assert arch.layer_types().count("maxpool2d") == 3
    space4 = make_space("cnn", (1, 8, 8), 10, max_layers=4)
    arch4 = space4.decode(space4.join([(0, 0, 1, 0)] * 4, (0, 0)))
    assert arch4.layer_types().count("maxpool2d") == 3  # the 4th would act on 1x1: dropped
    assert space4.canonical(space4.join([(0, 0, 1, 0)] * 4, (0, 0)))[-3] == 0


def test_unknown_space_lists_known() -> None:
    with pytest.raises(ValueError, match="space must be one of .*'mlp'"):
        make_space("transformer", (64,), 10)


def test_choices_bound_a_space_without_changing_its_networks() -> None:
    from darwin_bench.spaces import make_space

    full = make_space("mlp", (64,), 10, max_layers=2)
    sub = make_space("mlp", (64,), 10, max_layers=2, choices={"width": [64, 16], "dropout": [0.2]})
    assert [g.choices for g in sub.genes if g.name.startswith("width")] == [(16, 64)] * 2
    rng = np.random.default_rng(0)
    for _ in range(20):
        architecture = sub.decode(sub.sample(rng))
        assert full.encode(architecture) is not None  # a network of the full space
        assert {la.get("units") for la in architecture.layers} <= {16, 64, 10, None}


@pytest.mark.parametrize(
    ("choices", "message"),
    [
        ({"widths": [16]}, r"choices: unknown gene\(s\) \['widths'\]; allowed"),
        ({"width": [17]}, r"choices\['width'\]: \[17\] not among the gene's choices"),
        ({"width": []}, r"choices\['width'\] must be a non-empty list"),
        ({"activation": "relu"}, r"'choices' must be .*; got \{'activation': 'relu'\}"),
    ],
)
def test_bad_choices_name_the_gene(choices: dict, message: str) -> None:
    from darwin_bench.spaces import make_space

    with pytest.raises(ValueError, match=message):
        make_space("mlp", (64,), 10, choices=choices)


def test_all_genomes_enumerates_each_network_once() -> None:
    from darwin_bench.spaces import make_space

    space = make_space(
        "mlp", (64,), 10, max_layers=2, choices={"width": [16, 32], "activation": ["relu"]}
    )
    genomes = space.all_genomes()
    # depth 1: 2 widths; depth 2: 2 x 2; each with 4 dropouts.
    assert len(genomes) == (2 + 4) * 4
    assert len({space.decode(g).hash for g in genomes}) == len(genomes)
    assert all(np.array_equal(space.canonical(g), g) for g in genomes)
    with pytest.raises(ValueError, match="more than 10 genomes"):
        space.all_genomes(limit=10)
