"""Rewards: hand-checked values, the score map, and monotonicity for every reward (hypothesis)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from darwin_bench.rewards import NEEDS_SCORE_RANGE, REWARD_PARAMS, REWARDS, Reward

COSTS = {"flops": 200.0, "params": 50.0}
UNIT = (0.0, 1.0)
EXTRA_NAMES = ("params", "synapses")


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
    reward = Reward(name, "flops", 100.0, params, score_range=UNIT)
    assert math.isclose(reward(0.9, {"flops": cost}), expected, rel_tol=1e-12)


def test_score_map_is_the_documented_rule() -> None:
    unit = Reward("accuracy", "flops", 1.0, score_range=UNIT)
    assert [unit.normalize(s) for s in (0.0, 0.25, 1.0)] == [0.0, 0.25, 1.0]  # identity
    pendulum = Reward("mnasnet", "flops", 1.0, score_range=(-1600.0, 0.0))
    assert pendulum.normalize(-1600.0) == 0.0 and pendulum.normalize(0.0) == 1.0
    assert pendulum.normalize(-400.0) == pytest.approx(0.75)
    assert pendulum.normalize(-2000.0) == 0.0  # below the range: counts as its worst
    assert Reward("linear", "flops", 1.0).normalize(-7.5) == -7.5  # no range: the raw score
    assert pendulum.to_dict()["score_range"] == [-1600.0, 0.0]
    assert Reward("linear", "flops", 1.0).to_dict()["score_range"] is None


def test_constrained_ranks_every_feasible_above_every_infeasible() -> None:
    reward = Reward("constrained", "flops", 100.0, score_range=UNIT)
    assert reward(0.0, {"flops": 100.0}) > reward(1.0, {"flops": 101.0})
    assert reward(0.5, {"flops": 150.0}) > reward(0.9, {"flops": 1e9}) > -1.0


@pytest.mark.parametrize("name", NEEDS_SCORE_RANGE)
def test_rewards_that_need_a_range_refuse_without_one(name: str) -> None:
    with pytest.raises(ValueError, match=f"reward '{name}' needs score_range=\\(worst, best\\)"):
        Reward(name, "flops", 100.0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": "nope"}, "reward must be one of"),
        ({"target": 0.0}, "target must be a finite number > 0"),
        ({"target": float("nan")}, "target"),
        ({"params": {"gamma": 1.0}}, "allowed: \\['weight'\\]"),
        ({"params": {"weight": -0.1}}, r"reward_kwargs\['weight'\] must be >= 0"),
        ({"params": {"weight": True}}, r"reward_kwargs\['weight'\] must be a finite number"),
        ({"name": "mnasnet", "params": {"alpha": 0.1}}, r"reward_kwargs\['alpha'\] must be <= 0"),
        ({"name": "mnasnet-hard", "params": {"beta": 1.0}}, r"\['beta'\] must be <= 0"),
        ({"name": "multi", "params": {"w": 0.07}}, r"reward_kwargs\['w'\] must be <= 0"),
        ({"score_range": (1.0, 0.0)}, "score_range must be \\(worst, best\\)"),
        ({"score_range": (0.0, float("inf"))}, "score_range must be"),
        ({"score_range": "01"}, "score_range must be"),
        ({"score_range": (0.0,)}, "score_range must be"),
    ],
)
def test_bad_reward_settings(kwargs: dict, message: str) -> None:
    settings_ = {"name": "linear", "cost": "flops", "target": 100.0, "params": {}, **kwargs}
    with pytest.raises(ValueError, match=message):
        Reward(**settings_)


def test_unmeasured_cost_and_non_finite_score_are_named() -> None:
    with pytest.raises(ValueError, match="cost 'latency_ms' was not measured"):
        Reward("mnasnet", "latency_ms", 1.0, score_range=UNIT)(0.9, COSTS)
    with pytest.raises(ValueError, match="score must be a finite number"):
        Reward("accuracy", "flops", 1.0)(float("nan"), COSTS)


# ------------------------------------------------------------------ properties (hypothesis)
#
# Scores of both signs over many orders of magnitude, inside and outside their range; costs and
# targets from 1e-6 to 1e12 (and cost 0); every reward with valid parameters and 0-2 extra
# costs. Non-strict inequalities: a reward may stay equal (e.g. mnasnet of a zero score), it
# must never move the wrong way.

SIGNED = st.one_of(
    st.floats(-1e7, 1e7, allow_nan=False),
    st.builds(lambda m, e: m * 10.0**e, st.floats(-10, 10), st.integers(-6, 6)),
)
MAGNITUDE = st.builds(lambda m, e: m * 10.0**e, st.floats(1.0, 10.0), st.integers(-6, 11))
COST = st.one_of(st.just(0.0), MAGNITUDE)
PARAM = {
    "weight": st.floats(0.0, 10.0),
    "alpha": st.floats(-2.0, 0.0),
    "beta": st.floats(-2.0, 0.0),
    "w": st.floats(-2.0, 0.0),
}


@st.composite
def score_ranges(draw: st.DrawFn) -> tuple[float, float] | None:
    """The unit range, None, or (worst, worst + width) anywhere on the line."""
    kind = draw(st.sampled_from(["unit", "none", "any"]))
    if kind == "unit":
        return UNIT
    if kind == "none":
        return None
    worst = draw(SIGNED)
    return worst, worst + draw(MAGNITUDE)


@st.composite
def rewards(draw: st.DrawFn) -> Reward:
    """Any valid reward: name, parameters, target, extra costs and score range."""
    name = draw(st.sampled_from(sorted(REWARDS)))
    params = {key: draw(PARAM[key]) for key in REWARD_PARAMS[name] if draw(st.booleans())}
    extra = tuple(
        (n, draw(MAGNITUDE)) for n in EXTRA_NAMES[: draw(st.integers(0, len(EXTRA_NAMES)))]
    )
    score_range = draw(score_ranges())
    if name in NEEDS_SCORE_RANGE and score_range is None:
        score_range = UNIT
    return Reward(name, "flops", draw(MAGNITUDE), params, extra, score_range)


def cost_vector(reward: Reward, draw: st.DrawFn) -> dict[str, float]:
    return {name: draw(COST) for name in ("flops", *(n for n, _ in reward.extra))}


@settings(max_examples=1000, deadline=None)
@given(reward=rewards(), scores=st.tuples(SIGNED, SIGNED), data=st.data())
def test_a_better_score_never_earns_less_at_equal_cost(
    reward: Reward, scores: tuple[float, float], data: st.DataObject
) -> None:
    low, high = sorted(scores)
    costs = cost_vector(reward, data.draw)
    worse, better = reward(low, costs), reward(high, costs)
    assert math.isfinite(worse) and math.isfinite(better)
    assert better >= worse


@settings(max_examples=1000, deadline=None)
@given(reward=rewards(), score=SIGNED, which=st.integers(0, 2), pair=st.tuples(COST, COST))
def test_a_dearer_network_never_earns_more_at_equal_score(
    reward: Reward, score: float, which: int, pair: tuple[float, float]
) -> None:
    names = ["flops", *(n for n, _ in reward.extra)]
    name = names[which % len(names)]  # the reward's cost or any extra cost
    cheap, dear = sorted(pair)
    base = {n: 1.0 for n in names}
    assert reward(score, {**base, name: dear}) <= reward(score, {**base, name: cheap})


@settings(max_examples=1000, deadline=None)
@given(
    score_range=score_ranges(),
    scores=st.tuples(SIGNED, SIGNED),
    target=MAGNITUDE,
    fractions=st.tuples(st.floats(0.0, 1.0), st.floats(1.0, 1e6, exclude_min=True)),
)
def test_constrained_never_ranks_a_feasible_network_below_an_infeasible_one(
    score_range: tuple[float, float] | None,
    scores: tuple[float, float],
    target: float,
    fractions: tuple[float, float],
) -> None:
    reward = Reward("constrained", "flops", target, score_range=score_range or UNIT)
    within, over = target * fractions[0], target * fractions[1]
    if over <= target:  # the product rounded back onto the target
        over = math.nextafter(target, math.inf)
    # Stronger than required: whatever the two scores, the feasible network ranks higher.
    assert reward(scores[0], {"flops": within}) >= 0 > reward(scores[1], {"flops": over})


@settings(max_examples=500, deadline=None)
@given(reward=rewards(), score=SIGNED, data=st.data())
def test_the_bottom_of_the_range_earns_the_least_at_any_cost(
    reward: Reward, score: float, data: st.DataObject
) -> None:
    # A failed evaluation scores the bottom of the range (envs.core): no success earns less.
    costs = cost_vector(reward, data.draw)
    if reward.score_range is not None:
        assert reward(reward.score_range[0], costs) <= reward(score, costs)
