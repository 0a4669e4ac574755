from __future__ import annotations

import math

import pytest

from darwin_bench.rewards import Reward

COSTS = {"flops": 200.0, "params": 50.0}


@pytest.mark.parametrize(
    "name, params, cost, expected",
    [
        ("accuracy", {}, 200.0, 0.9),
        ("linear", {}, 200.0, 0.9 - 0.1 * 2.0),
        ("linear", {"weight": 0.5}, 50.0, 0.9 - 0.5 * 0.5),
        ("mnasnet", {}, 200.0, 0.9 * 2.0**-0.07),
        ("mnasnet", {}, 50.0, 0.9 * 0.5**-0.07),
        ("mnasnet-hard", {}, 50.0, 0.9),
        ("mnasnet-hard", {}, 200.0, 0.9 / 2.0),
        ("constrained", {}, 50.0, 0.9),
        ("constrained", {}, 200.0, -(1 - 100 / 200)),
    ],
)
def test_reward_values(name: str, params: dict, cost: float, expected: float) -> None:
    reward = Reward(name, "flops", 100.0, params)
    assert math.isclose(reward(0.9, {"flops": cost}), expected, rel_tol=1e-12)


def test_constrained_ranks_every_feasible_above_every_infeasible() -> None:
    reward = Reward("constrained", "flops", 100.0)
    assert reward(0.0, {"flops": 100.0}) > reward(1.0, {"flops": 101.0})
    assert reward(0.5, {"flops": 150.0}) > reward(0.9, {"flops": 1e9}) > -1.0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": "nope"}, "reward must be one of"),
        ({"target": 0.0}, "target must be a finite number > 0"),
        ({"target": float("nan")}, "target"),
        ({"params": {"gamma": 1.0}}, "allowed: \\['weight'\\]"),
    ],
)
def test_bad_reward_settings(kwargs: dict, message: str) -> None:
    settings = {"name": "linear", "cost": "flops", "target": 100.0, "params": {}, **kwargs}
    with pytest.raises(ValueError, match=message):
        Reward(**settings)


def test_unmeasured_cost_is_named() -> None:
    with pytest.raises(ValueError, match="cost 'latency_ms' was not measured"):
        Reward("mnasnet", "latency_ms", 1.0)(0.9, COSTS)
