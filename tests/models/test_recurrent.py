"""The recurrent builder: delayed connections in the time loop, state carry-over, costs."""

from __future__ import annotations

import pytest
import torch

from darwin_bench.architecture import Architecture
from darwin_bench.costs import count_flops, measure_costs
from darwin_bench.models import build_model
from darwin_bench.models.recurrent import RecurrentLM, build_recurrent

VOCAB = 20


def arch(
    cells: list[tuple[str, int]],
    connections: tuple[tuple[int, int, int], ...] = (),
    embedding: int = 8,
    dropout: float = 0.0,
) -> Architecture:
    layers = (
        {"type": "embedding", "vocab": VOCAB, "dim": embedding},
        *({"type": "recurrent", "cell": c, "units": u} for c, u in cells),
        {"type": "dense", "units": VOCAB, "activation": None},
    )
    conns = tuple({"from": s, "to": t, "delay": d} for s, t, d in connections)
    return Architecture("rnn", (12,), VOCAB, layers, conns, {"dropout": dropout})


def tokens(batch: int = 3, steps: int = 12, seed: int = 0) -> torch.Tensor:
    return torch.randint(0, VOCAB, (batch, steps), generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_shapes_and_registry(cell: str) -> None:
    torch.manual_seed(0)
    model = build_model(arch([(cell, 16), ("gru", 8)], ((1, 0, 2),)))
    assert isinstance(model, RecurrentLM)
    assert model(tokens()).shape == (3, 12, VOCAB)


def test_delayed_connection_reaches_exactly_delay_steps_later() -> None:
    """Changing the token at time 0 can only reach layer 0's input through the d=3 feedback
    from layer 1; with only that path (top output ignored), outputs differ first at t=3."""
    torch.manual_seed(0)
    model = build_recurrent(arch([("rnn", 6), ("rnn", 6)], ((1, 0, 3),))).eval()
    layer0 = model.cells[0]
    seen: list[torch.Tensor] = []
    handle = layer0.register_forward_hook(lambda m, i, o: seen.append(i[0].detach().clone()))
    x = tokens(1, 8)
    y = x.clone()
    y[0, 0] = (x[0, 0] + 1) % VOCAB
    with torch.no_grad():
        model(x)
        inputs_x = torch.stack(seen)
        seen.clear()
        model(y)
        inputs_y = torch.stack(seen)
    handle.remove()
    differs = [bool((a - b).abs().max() > 0) for a, b in zip(inputs_x, inputs_y)]
    # t=0 differs through the embedding; t=1, 2 see layer 1 at t-3 < 0 (zeros); t=3 sees t=0
    assert differs[:4] == [True, False, False, True]


def test_projection_shapes_follow_source_and_target() -> None:
    model = build_recurrent(arch([("lstm", 10), ("gru", 7), ("rnn", 5)], ((2, 0, 1), (2, 1, 4))))
    shapes = [tuple(p.weight.shape) for p in model.projections]
    assert shapes == [(8, 5), (10, 5)]  # into the embedding (8) and into layer 1's input (10)
    assert model.history_len == [0, 0, 4]


def test_state_carry_equals_one_long_run() -> None:
    torch.manual_seed(1)
    model = build_recurrent(arch([("lstm", 8), ("gru", 8)], ((1, 0, 2), (0, 0, 5)))).eval()
    x = tokens(2, 12)
    with torch.no_grad():
        full, _ = model.run(x)
        first, state = model.run(x[:, :5])
        second, _ = model.run(x[:, 5:], state)
    torch.testing.assert_close(torch.cat([first, second], dim=1), full)


def test_training_step_reaches_the_projections() -> None:
    torch.manual_seed(0)
    model = build_recurrent(arch([("lstm", 8), ("lstm", 8)], ((1, 0, 1),), dropout=0.1))
    logits, state = model.run(tokens())
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, VOCAB), tokens(seed=1).reshape(-1))
    loss.backward()
    assert model.projections[0].weight.grad is not None
    assert float(model.projections[0].weight.grad.abs().sum()) > 0
    detached = state.detach()
    assert all(not h.requires_grad for hs in detached.history for h in hs)


def test_flops_scale_with_sequence_length_and_connections() -> None:
    torch.manual_seed(0)
    plain = build_recurrent(arch([("lstm", 16)]))
    linked = build_recurrent(arch([("lstm", 16)], ((0, 0, 2),)))
    f6, f12 = count_flops(plain, tokens(1, 6)), count_flops(plain, tokens(1, 12))
    # per step: LSTM 2*4*16*(8+16), decoder 2*16*20
    per_step = 2 * 4 * 16 * (8 + 16) + 2 * 16 * VOCAB
    assert f6 == 6 * per_step and f12 == 12 * per_step
    assert count_flops(linked, tokens(1, 12)) == 12 * (per_step + 2 * 16 * 8)
    costs = measure_costs(plain, tokens(1, 12))
    assert costs["latency_ms"] > 0 and costs["params"] == sum(p.numel() for p in plain.parameters())


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"connections": ({"from": 0, "to": 1, "delay": 1},)}, "connections"),
        ({"connections": ({"from": 0, "to": 0, "delay": 0},)}, "delay"),
        ({"layers_cell": "transformer"}, "cell"),
        ({"extra": {"dropout": 1.5}}, "dropout"),
    ],
)
def test_bad_architectures_are_refused(change: dict, match: str) -> None:
    base = arch([("gru", 8)]).to_dict()
    if "layers_cell" in change:
        base["layers"][1]["cell"] = change.pop("layers_cell")
    base.update(change)
    with pytest.raises(ValueError, match=match):
        build_recurrent(Architecture.from_dict(base))
