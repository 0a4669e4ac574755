"""The ``rnn`` space: genes, recurrent connections, operators and builder masks."""

from __future__ import annotations

import numpy as np
import pytest

from darwin_bench.architecture import Architecture
from darwin_bench.spaces import RNNSpace, make_space

VOCAB = 50


@pytest.fixture
def space() -> RNNSpace:
    made = make_space("rnn", (16,), VOCAB)
    assert isinstance(made, RNNSpace)
    return made


def genome(space: RNNSpace, **genes: int) -> np.ndarray:
    """A genome of zeros with the named genes set."""
    names = [g.name for g in space.genes]
    out = np.zeros(len(names), dtype=np.int64)
    for name, value in genes.items():
        out[names.index(name)] = value
    return out


def test_decode_layers_and_connections(space: RNNSpace) -> None:
    g = genome(
        space,
        depth=2,  # 3 layers
        cell_0=2,
        width_0=1,
        cell_1=1,
        cell_2=0,
        width_2=2,
        embedding=1,
        dropout=1,
        conn0=1,
        conn0_from=2,
        conn0_to=0,
        conn0_delay=3,
        conn1=1,
        conn1_from=1,
        conn1_to=1,
        conn1_delay=1,
    )
    arch = space.decode(g)
    assert arch.layers[0] == {"type": "embedding", "vocab": VOCAB, "dim": 32}
    assert [(la["cell"], la["units"]) for la in arch.layers[1:-1]] == [
        ("lstm", 64),
        ("gru", 32),
        ("rnn", 128),
    ]
    assert arch.layers[-1] == {"type": "dense", "units": VOCAB, "activation": None}
    # sorted by (from, to, delay): depth 0 / length 2, then depth 2 / length 8
    assert arch.connections == (
        {"from": 1, "to": 1, "delay": 2},
        {"from": 2, "to": 0, "delay": 8},
    )
    assert arch.extra == {"dropout": 0.1}
    assert space.decode(space.encode(arch)) == arch
    assert space.encode(arch).tolist() == space.canonical(g).tolist()


def test_duplicates_and_slot_order_canonicalize(space: RNNSpace) -> None:
    a = genome(space, depth=1, conn0=1, conn0_from=1, conn0_delay=2, conn1=1, conn1_delay=1)
    b = genome(space, depth=1, conn0=1, conn0_delay=1, conn1=1, conn1_from=1, conn1_delay=2)
    assert space.decode(a) == space.decode(b)
    assert space.canonical(a).tolist() == space.canonical(b).tolist()
    dup = genome(space, conn0=1, conn0_delay=2, conn1=1, conn1_delay=2)
    assert space.decode(dup).connections == ({"from": 0, "to": 0, "delay": 4},)
    # inactive genes of a disabled slot are zero in the canonical genome
    off = genome(space, conn0=0, conn0_from=2, conn0_to=1, conn0_delay=3)
    assert space.canonical(off).tolist() == genome(space).tolist()
    assert not space.active_genes(off)[[g.name for g in space.genes].index("conn0_from")]


def test_every_action_decodes_with_clipped_ends(space: RNNSpace) -> None:
    # depth 1 (one layer): from=2 is clipped to 0, and to to <= from
    g = genome(space, depth=0, conn0=1, conn0_from=2, conn0_to=2)
    assert space.decode(g).connections == ({"from": 0, "to": 0, "delay": 1},)
    g = genome(space, depth=2, conn0=1, conn0_from=1, conn0_to=2)
    assert space.decode(g).connections == ({"from": 1, "to": 1, "delay": 1},)
    action_space = space.action_space
    action_space.seed(3)
    for _ in range(300):
        arch = space.decode(action_space.sample())
        depth = len(arch.layers) - 2
        assert all(0 <= c["to"] <= c["from"] < depth for c in arch.connections)


def test_out_of_range_values_are_refused(space: RNNSpace) -> None:
    bad = genome(space, conn0_delay=4)
    with pytest.raises(ValueError, match="conn0_delay"):
        space.validate(bad)
    arch = space.decode(genome(space, depth=1))
    wrong = Architecture(
        "rnn",
        arch.input_shape,
        VOCAB,
        arch.layers,
        ({"from": 0, "to": 1, "delay": 1},),
        arch.extra,
    )
    with pytest.raises(ValueError, match="to <= from"):
        space.encode(wrong)
    too_many = Architecture(
        "rnn",
        arch.input_shape,
        VOCAB,
        arch.layers,
        tuple({"from": 1, "to": 0, "delay": d} for d in (1, 2, 4)),
        arch.extra,
    )
    with pytest.raises(ValueError, match="max_connections"):
        space.encode(too_many)
    with pytest.raises(ValueError, match="delays"):
        RNNSpace((16,), VOCAB, delays=(2, 1))
    with pytest.raises(ValueError, match="max_connections"):
        RNNSpace((16,), VOCAB, max_connections=-1)


def test_builder_masks_offer_only_in_range_ends(space: RNNSpace) -> None:
    names = [g.name for g in space.genes]
    prefix = [*genome(space, depth=1)[: names.index("conn0")].tolist(), 1]  # 2 layers, conn0 on
    mask = space.choice_mask(prefix)
    assert mask.tolist()[:3] == [True, True, False]  # from: layer 0 or 1, not 2
    mask = space.choice_mask([*prefix, 0])  # from layer 0: to must be 0
    assert mask.tolist()[:3] == [True, False, False]
    mask = space.choice_mask([*prefix, 1])
    assert mask.tolist()[:3] == [True, True, False]
    off = [*genome(space, depth=1)[: names.index("conn0")].tolist(), 0]
    assert space.choice_mask(off).tolist() == [True] + [False] * (int(space.nvec.max()) - 1)
    rng = np.random.default_rng(0)
    for _ in range(50):  # a builder rollout never needs clipping
        chosen: list[int] = []
        for _ in space.genes:
            chosen.append(int(rng.choice(np.flatnonzero(space.choice_mask(chosen)))))
        depth = chosen[0] + 1
        start = names.index("conn0")
        for k in range(space.max_connections):
            on, src, dst, _ = chosen[start + 4 * k : start + 4 * k + 4]
            assert not on or dst <= src < depth


def test_sample_mutate_crossover_stay_valid_and_canonical(space: RNNSpace) -> None:
    rng = np.random.default_rng(1)
    seen_conns = set()
    for _ in range(200):
        g = space.sample(rng)
        assert space.canonical(g).tolist() == g.tolist()
        child = space.mutate(g, rng)
        assert child.tolist() != g.tolist()
        assert space.canonical(child).tolist() == child.tolist()
        other = space.crossover(g, space.sample(rng), rng)
        assert space.canonical(other).tolist() == other.tolist()
        seen_conns.add(len(space.decode(g).connections))
    assert seen_conns == {0, 1, 2}


def count_ops(space: RNNSpace, g: np.ndarray, seed: int) -> set[str]:
    """Classify the mutations of ``g`` seen over many draws."""
    rng = np.random.default_rng(seed)
    parent = space.decode(g)
    kinds = set()
    for _ in range(300):
        child = space.decode(space.mutate(g, rng))
        a, b = set(map(_key, parent.connections)), set(map(_key, child.connections))
        if len(child.layers) != len(parent.layers):
            kinds.add("layers")
        elif len(b) > len(a):
            kinds.add("add_connection")
        elif len(b) < len(a):
            kinds.add("remove_connection")
        elif a != b:
            kinds.add("retarget_connection")
        else:
            kinds.add("change")
    return kinds


def _key(c: dict) -> tuple[int, int, int]:
    return (c["from"], c["to"], c["delay"])


def test_mutation_adds_removes_and_retargets_connections(space: RNNSpace) -> None:
    g = space.canonical(genome(space, depth=1, conn0=1, conn0_from=1, conn0_to=0, conn0_delay=1))
    assert count_ops(space, g, 0) == {
        "layers",
        "add_connection",
        "remove_connection",
        "retarget_connection",
        "change",
    }


def test_removing_a_layer_keeps_connections_on_their_layers(space: RNNSpace) -> None:
    # 3 layers, widths 32/64/128, a connection 2 -> 1; removing layer 0 renumbers it 1 -> 0
    g = space.canonical(
        genome(space, depth=2, width_1=1, width_2=2, conn0=1, conn0_from=2, conn0_to=1)
    )
    rng = np.random.default_rng(0)
    found = False
    for _ in range(400):
        child = space.decode(space.mutate(g, rng))
        widths = [la["units"] for la in child.layers[1:-1]]
        if widths == [64, 128]:
            assert child.connections == ({"from": 1, "to": 0, "delay": 1},)
            found = True
    assert found


def test_crossover_carries_connections_with_their_layers(space: RNNSpace) -> None:
    a = space.canonical(genome(space, depth=1, conn0=1, conn0_from=0, conn0_delay=3))
    b = space.canonical(
        genome(space, depth=2, cell_0=1, cell_1=1, cell_2=1, conn0=1, conn0_from=2, conn0_to=1)
    )
    rng = np.random.default_rng(0)
    for _ in range(100):
        child = space.decode(space.crossover(a, b, rng))
        cells = [la["cell"] for la in child.layers[1:-1]]
        depth = len(cells)
        for c in child.connections:
            assert 0 <= c["to"] <= c["from"] < depth
            if c["delay"] == 8:  # a's own connection: a self-loop on a's (rnn) first layer
                assert c == {"from": 0, "to": 0, "delay": 8} and cells[0] == "rnn"
            else:  # b's 2 -> 1 connection lands on two of b's (gru) layers
                assert cells[c["from"]] == "gru" and cells[c["to"]] == "gru"


def test_describe_and_neighbours(space: RNNSpace) -> None:
    described = space.describe()
    assert described["space"] == "rnn"
    assert [g["name"] for g in described["genes"]][-4:] == [
        "conn1",
        "conn1_from",
        "conn1_to",
        "conn1_delay",
    ]
    g = space.sample(np.random.default_rng(2))
    neighbours = space.neighbours(g)
    assert neighbours and all(space.is_valid(n) for n in neighbours)
    assert len({n.tobytes() for n in neighbours}) == len(neighbours)
