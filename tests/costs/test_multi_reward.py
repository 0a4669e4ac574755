"""The multi-objective reward and extra cost objectives, hand-checked."""

from __future__ import annotations

import math

import pytest

from darwin_bench.rewards import Reward

UNIT = (0.0, 1.0)
COSTS = {"flops": 200.0, "synapses": 50.0, "latency_ms@edge-tpu": 0.3}


def test_multi_is_the_soft_mnasnet_product_over_every_cost() -> None:
    extra = (("synapses", 100.0), ("latency_ms@edge-tpu", 0.3))
    reward = Reward("multi", "flops", 100.0, extra=extra, score_range=UNIT)
    expected = 0.9 * 2.0**-0.07 * 0.5**-0.07 * 1.0**-0.07
    assert math.isclose(reward(0.9, COSTS), expected, rel_tol=1e-12)
    strong = Reward("multi", "flops", 100.0, {"w": -1.0}, (("synapses", 100.0),), UNIT)
    assert math.isclose(strong(0.9, COSTS), 0.9 / 2.0 / 0.5, rel_tol=1e-12)


def test_objectives_name_every_cost_and_keep_score_and_cost() -> None:
    reward = Reward("mnasnet", "flops", 100.0, extra=(("synapses", 100.0),), score_range=UNIT)
    assert reward.objectives(0.9, COSTS) == {
        "score": 0.9,
        "cost": 200.0,
        "flops": 200.0,
        "synapses": 50.0,
    }
    assert Reward("mnasnet", "flops", 100.0, score_range=UNIT).objectives(0.9, COSTS) == {
        "score": 0.9,
        "cost": 200.0,
    }
    assert math.isclose(reward(0.9, COSTS), 0.9 * 2.0**-0.07)  # extra costs only reported


def test_modeled_cost_is_marked_in_the_description() -> None:
    assert Reward("accuracy", "latency_ms@edge-tpu", 1.0).to_dict()["modeled"] is True
    assert "modeled" not in Reward("accuracy", "flops", 1.0).to_dict()


def test_bad_extra_costs() -> None:
    with pytest.raises(ValueError, match="targets\\['synapses'\\]"):
        Reward("multi", "flops", 100.0, extra=(("synapses", 0.0),), score_range=UNIT)
    with pytest.raises(ValueError, match="already the reward's cost"):
        Reward("multi", "flops", 100.0, extra=(("flops", 1.0),), score_range=UNIT)
    with pytest.raises(ValueError, match="cost 'synapses' was not measured"):
        Reward("multi", "flops", 100.0, extra=(("synapses", 1.0),), score_range=UNIT)(
            0.9, {"flops": 1.0}
        )
