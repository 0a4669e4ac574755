"""Scores of any sign reach the rewards through their range, or the env refuses (issue 8)."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest

import darwin_bench
from darwin_bench.rewards import NEEDS_SCORE_RANGE
from darwin_bench.tasks import ClassificationTask
from darwin_bench.tasks.digits import digits_splits

MLP = "darwin_bench/Digits-MLP-v0"
FAST = {"epochs": 1, "measure_latency": False}
QUICK = {"measure_latency": False}  # control tasks train for timesteps, not epochs
#: Pendulum-v1's exact return range: 200 steps of at most pi^2 + 0.1 * 8^2 + 0.001 * 2^2.
PENDULUM_RANGE = (-200 * (np.pi**2 + 6.4 + 0.004), 0.0)


@pytest.fixture(scope="module")
def pendulum() -> darwin_bench.tasks.Task:
    """A real ``from_gym`` task with no known return range: its score is the raw return."""
    return darwin_bench.tasks.from_gym("Pendulum-v1", timesteps=256, eval_episodes=2)


@pytest.mark.parametrize("reward", NEEDS_SCORE_RANGE)
def test_pendulum_without_a_range_refuses_rewards_that_need_one(pendulum, reward: str) -> None:
    with pytest.raises(ValueError) as error:
        darwin_bench.register(pendulum, name="PendulumNoRange", reward=reward)
    message = str(error.value)
    assert f"reward {reward!r} needs the range" in message
    assert "task 'pendulum' declares none" in message
    assert "score_range=[worst, best]" in message and "'return_range'" in message
    assert "reward='linear'" in message


def test_pendulum_rewards_never_prefer_a_dearer_network(pendulum) -> None:
    """The reported defect: with returns below zero, ``mnasnet`` and ``multi`` preferred the
    bigger network at equal score and ``constrained`` ranked an over-target network with a worse
    return above a within-target one. With the score range given, none of that happens."""
    env_id = darwin_bench.register(
        pendulum, name="PendulumRanged", score_range=PENDULUM_RANGE, **QUICK
    )
    try:
        env = gym.make(env_id, budget=2)
        env.reset(seed=0)
        space = env.unwrapped.search_space
        rng = np.random.default_rng(0)
        infos = [env.step(space.sample(rng))[4] for _ in range(2)]
        assert env.unwrapped.core.describe()["reward"]["score_range"] == list(PENDULUM_RANGE)
    finally:
        darwin_bench.unregister(env_id)
    scores = sorted(info["objectives"]["score"] for info in infos)
    flops = sorted(info["costs"]["flops"] for info in infos)
    assert scores[1] < 0  # real Pendulum returns: the sign that broke the rewards
    assert all(info["status"] == "ok" for info in infos)
    for name in ("mnasnet", "multi", "mnasnet-hard", "linear", "accuracy", "constrained"):
        core_env = gym.make(
            MLP, task=pendulum, reward=name, target=flops[0], score_range=PENDULUM_RANGE, **QUICK
        )
        reward = core_env.unwrapped.core.reward
        for score in scores:  # equal score: the cheaper network earns at least as much
            assert reward(score, {"flops": flops[0]}) >= reward(score, {"flops": flops[1]})
        for cost in flops:  # equal cost: the better return earns at least as much
            assert reward(scores[1], {"flops": cost}) >= reward(scores[0], {"flops": cost})
        if name == "constrained":  # within target, better return vs over target, worse return
            within = reward(scores[1], {"flops": flops[0]})
            assert within >= 0 > reward(scores[0], {"flops": flops[0] * 10})
        core_env.close()


def test_pendulum_accepts_rewards_that_need_no_range(pendulum) -> None:
    env = gym.make(MLP, task=pendulum, reward="linear", **QUICK)
    assert env.unwrapped.core.reward.score_range is None
    assert env.unwrapped.core.describe()["reward"]["score_range"] is None


class LossTask(ClassificationTask):
    """A lower-is-better metric: the score is ``-val_loss``, of any size."""

    metric = "val_loss"
    higher_is_better = False


def test_lower_is_better_task_needs_a_range_and_gets_the_given_one() -> None:
    task = LossTask("digits-loss", *digits_splits(), epochs=1)
    with pytest.raises(ValueError, match="task 'digits-loss' declares none"):
        gym.make(MLP, task=task, reward="mnasnet", **FAST)
    env = gym.make(MLP, task=task, reward="mnasnet", score_range=[-5.0, 0.0], budget=1, **FAST)
    env.reset(seed=0)
    _, reward, _, _, info = env.step(np.zeros(10, dtype=np.int64))
    score = info["objectives"]["score"]
    assert score == -info["metrics"]["val_loss"] < 0
    target = env.unwrapped.core.reward.target
    assert reward == pytest.approx((score + 5) / 5 * (info["costs"]["flops"] / target) ** -0.07)


@pytest.mark.parametrize(
    "value", [[0.0], [1.0, 0.0], [0.0, float("nan")], "0,1", {"worst": 0, "best": 1}]
)
def test_bad_score_range_is_named(value: object) -> None:
    # a JSON type other than a list is refused by the env kwargs' type check, the rest by
    # the score range's own check; both name the field
    with pytest.raises(ValueError, match="score_range'? must be"):
        gym.make(MLP, score_range=value, **FAST)


def test_a_score_outside_the_declared_range_warns_once() -> None:
    env = gym.make(MLP, score_range=[0.99, 1.0], budget=2, **FAST)
    env.reset(seed=0)
    with pytest.warns(RuntimeWarning, match="outside its score_range \\[0.99, 1.0\\]"):
        _, reward, _, _, _ = env.step(np.zeros(10, dtype=np.int64))
    assert reward == 0.0  # below the range: counts as its worst
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env.step(np.zeros(10, dtype=np.int64))
