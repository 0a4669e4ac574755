"""Budget kinds: validation, the accounting rule, and exact training FLOPs counted by hand."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from darwin_bench.budgets import BudgetMeter, check_budget, train_flops_per_sample


@pytest.mark.parametrize(
    ("kind", "amount", "message"),
    [
        ("dollars", 5, "budget_kind must be one of 'evaluations', 'train_flops', 'seconds'"),
        ("evaluations", 2.5, "budget must be a positive integer"),
        ("evaluations", 0, "budget must be a positive integer"),
        ("train_flops", -1.0, "budget must be a finite number > 0"),
        ("seconds", float("inf"), "budget must be a finite number > 0"),
        ("seconds", "10", "budget must be a positive number"),
    ],
)
def test_bad_budget_names_the_field(kind: str, amount: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_budget(kind, amount)


def test_amounts_keep_their_kind() -> None:
    assert check_budget("evaluations", 3.0) == 3 and isinstance(check_budget("evaluations", 3), int)
    assert check_budget("train_flops", 2e12) == 2e12
    assert check_budget("seconds", 90.5) == 90.5


def test_the_last_evaluation_may_overshoot_and_the_spend_is_exact() -> None:
    meter = BudgetMeter("train_flops", 100.0)
    assert meter.affordable([40.0, 40.0, 40.0, 40.0]) == 3  # the third starts at 80 < 100
    for price in (40.0, 40.0, 40.0):
        assert not meter.exhausted
        meter.charge(price)
    assert meter.exhausted and meter.used == 120.0 and meter.left == 0
    assert meter.affordable([1.0]) == 0
    state = meter.state()
    assert state.to_dict() == {
        "kind": "train_flops",
        "total": 100.0,
        "used": 120.0,
        "left": 0,
        "reproducible": True,
    }
    assert state.fraction_used == 1.0
    meter.reset()
    assert meter.used == 0 and meter.left == 100.0


def test_unknown_prices_let_a_population_run_in_full() -> None:
    meter = BudgetMeter("seconds", 1.0, reproducible=False)
    assert meter.affordable([None, None, None]) == 3
    meter.charge(2.0)
    assert meter.affordable([None]) == 0 and not meter.state().reproducible


def test_evaluation_budgets_count_whole_units() -> None:
    meter = BudgetMeter("evaluations", 3)
    assert meter.affordable([1, 1, 1, 1, 1]) == 3
    meter.charge(1)
    assert meter.left == 2 and isinstance(meter.left, int)
    with pytest.raises(ValueError, match="charge"):
        meter.charge(-1)


def test_train_flops_of_an_mlp_by_hand() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 10))
    forward = 2 * (64 * 32 + 32 * 10)
    # Backward: weight gradients of both layers, the input gradient of the second only (the
    # input needs none).
    backward = 2 * (64 * 32) + 2 * 2 * (32 * 10)
    state = torch.random.get_rng_state()
    assert train_flops_per_sample(model, torch.zeros(5, 64)) == forward + backward
    assert torch.equal(torch.random.get_rng_state(), state)  # dropout did not move the RNG
    assert all(p.grad is None for p in model.parameters())


def test_train_flops_of_fused_recurrent_layers_count_three_forwards() -> None:
    class LSTMNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(4, 8, batch_first=True)
            self.head = nn.Linear(8, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(self.lstm(x)[0])

    steps = 5
    lstm_forward = 2 * 4 * 8 * 4 * steps + 2 * 4 * 8 * 8 * steps  # 4 gates, input + hidden
    head = 2 * 8 * 3 * steps
    # The head's backward needs the weight gradient and the LSTM output's gradient.
    expected = 3 * lstm_forward + head + 2 * head
    assert train_flops_per_sample(LSTMNet(), torch.zeros(1, steps, 4)) == expected
