"""Kwargs, budget, bad input and the three env forms on Digits."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import darwin_bench
from darwin_bench.tasks import ClassificationTask
from darwin_bench.tasks.digits import digits_splits
from envs.tasks import register_task

MLP = "darwin_bench/Digits-MLP-v0"
FAST = {"epochs": 1, "measure_latency": False}


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"reward": "best"}, "reward must be one of 'accuracy', 'linear', 'mnasnet'"),
        ({"cost": "watts"}, "cost must be one of 'params', 'synapses', 'flops', 'latency_ms'"),
        ({"budget": 0}, "budget must be a positive integer"),
        ({"budget": -3}, "budget must be a positive integer"),
        ({"budget": 2.5}, "budget must be a positive integer"),
        ({"epochs": 0}, "epochs must be a positive integer"),
        ({"target": -1.0}, "target must be a finite number > 0"),
        ({"space": "rnn-xl"}, "space must be one of"),
        ({"task": "imagenet"}, "task must be one of .*'digits'"),
        ({"fidelity": {"steps": 3}}, "fidelity 'steps' is not known to task 'digits'"),
        ({"cost": "latency_ms", "measure_latency": False}, "measure_latency must be True"),
        ({"reward_kwargs": {"weight": 1.0}}, "not a parameter of reward 'mnasnet'"),
        ({"bugdet": 3}, r"unknown env kwarg\(s\) \['bugdet'\]; allowed: task, space"),
    ],
)
def test_bad_kwargs_raise_value_error_naming_field(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        gym.make(MLP, **kwargs)


def test_unknown_env_id_lists_known_ids() -> None:
    with pytest.raises(ValueError, match="env must be one of darwin_bench/Digits-MLP-v0"):
        darwin_bench.make("darwin_bench/Digits-Transformer-v0")


@pytest.mark.parametrize(
    "genome, message",
    [
        ([0, 0, 0], "genome must be a flat sequence of 10 integers \\(depth, width_0"),
        ([9, 0, 0, 0, 0, 0, 0, 0, 0, 0], r"genome\[0\] \(depth\) must be in 0\.\.3"),
        ([0, 0, 7, 0, 0, 0, 0, 0, 0, 0], r"genome\[2\] \(activation_0\) must be in 0\.\.3"),
        ([0.5] * 10, "genome must contain integers"),
    ],
)
def test_invalid_genome(genome: list, message: str) -> None:
    env = gym.make(MLP, **FAST)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=message):
        env.step(np.array(genome))
    assert env.unwrapped.budget_left == env.unwrapped.budget  # nothing was spent


def test_budget_truncates_the_episode() -> None:
    env = gym.make(MLP, budget=3, **FAST)
    env.reset(seed=0)
    space = env.unwrapped.search_space
    rng = np.random.default_rng(0)
    flags = [env.step(space.sample(rng))[3] for _ in range(3)]
    assert flags == [False, False, True]
    _, reward, _, truncated, info = env.step(space.sample(rng))  # after the budget
    assert (reward, truncated, info["budget_exhausted"]) == (0.0, True, True)
    assert "evaluation_id" not in info and env.unwrapped.budget_left == 0
    env.reset(seed=1)
    assert env.unwrapped.budget_left == 3


def test_repeated_proposal_spends_budget_but_trains_once() -> None:
    env = gym.make(MLP, budget=3, **FAST)
    env.reset(seed=0)
    genome = env.unwrapped.search_space.sample(np.random.default_rng(0))
    infos = [env.step(genome)[4] for _ in range(3)]
    assert [i["budget_used"] for i in infos] == [1, 2, 3]
    assert len({i["evaluation_id"] for i in infos}) == 1
    assert env.unwrapped.core.evaluator.stats["trained"] == 1


def test_candidate_seed_depends_on_run_seed_not_order() -> None:
    env = gym.make(MLP, budget=4, **FAST)
    space = env.unwrapped.search_space
    a, b = space.sample(np.random.default_rng(1)), space.sample(np.random.default_rng(2))
    env.reset(seed=5)
    first = [env.step(g)[4]["seed"] for g in (a, b)]
    env.reset(seed=5)
    second = [env.step(g)[4]["seed"] for g in (b, a)]
    assert first == second[::-1]
    env.reset(seed=6)
    assert env.step(a)[4]["seed"] != first[0]


@pytest.mark.parametrize("reward_name", ["mnasnet", "constrained", "linear", "multi", "accuracy"])
def test_diverging_training_gets_worst_reward_and_search_goes_on(reward_name: str) -> None:
    train, val, test = digits_splits()
    register_task(
        "digits-overflow",
        lambda: ClassificationTask(
            "digits-overflow",
            (train[0] * 1e38, train[1]),
            val,
            test,
            epochs=1,
            default_targets={"flops": 2e4},
        ),
    )
    env = gym.make(MLP, task="digits-overflow", reward=reward_name, budget=2, measure_latency=False)
    env.reset(seed=0)
    _, reward, _, _, info = env.step(np.zeros(10, dtype=np.int64))
    assert info["status"] == "failed" and "loss became" in info["reason"]
    assert info["objectives"]["score"] == 0.0  # the bottom of the task's score range
    rule = env.unwrapped.core.reward
    assert reward == rule(0.0, info["costs"])  # e.g. mnasnet of a zero score: 0
    assert all(reward <= rule(s, info["costs"]) for s in np.linspace(0, 1, 11))
    _, _, _, truncated, _ = env.step(np.zeros(10, dtype=np.int64))
    assert truncated


def test_builder_masks_repair_and_reward_on_last_step() -> None:
    env = gym.make("darwin_bench/Digits-MLP-Builder-v0", budget=2, **FAST)
    obs, _ = env.reset(seed=0)
    unwrapped = env.unwrapped
    assert not obs.any()
    rewards, terminated, info = [], False, {}
    step = 0
    while not terminated:
        mask = unwrapped.action_masks()
        # pick a masked choice on purpose when one exists: it must be repaired
        masked = np.flatnonzero(~mask)
        action = int(masked[0]) if len(masked) and step == 3 else int(np.flatnonzero(mask)[-1])
        obs, reward, terminated, _, info = env.step(action)
        rewards.append(reward)
        if step == 3 and len(masked):
            assert info["repaired"]
        step += 1
    assert rewards[:-1] == [0.0] * (len(rewards) - 1) and rewards[-1] != 0.0
    assert (obs > 0).all() and info["budget_used"] == 1
    genome = np.asarray(info["evaluation"].genome)
    assert unwrapped.search_space.is_valid(genome)


def test_population_env_evaluates_a_generation_in_one_call() -> None:
    env = gym.make_vec(MLP, num_envs=4, vectorization_mode="vector_entry_point", budget=6, **FAST)
    env.reset(seed=0)
    space = env.unwrapped.search_space
    calls: list[int] = []
    evaluator = env.unwrapped.core.evaluator
    original = evaluator.evaluate

    def spy(requests):
        calls.append(len(requests))
        return original(requests)

    evaluator.evaluate = spy
    rng = np.random.default_rng(0)
    _, rewards, _, truncated, info = env.step(np.stack([space.sample(rng) for _ in range(4)]))
    assert calls == [4] and not truncated.any() and (rewards != 0).all()
    _, rewards, _, truncated, info = env.step(np.stack([space.sample(rng) for _ in range(4)]))
    assert calls == [4, 2] and truncated.all()
    assert info["evaluated"].tolist() == [True, True, False, False]
    assert info["budget_used"][:2].tolist() == [5, 6]


def test_lower_is_better_task_must_define_worst_score() -> None:
    train, val, test = digits_splits()

    class LossTask(ClassificationTask):
        metric = "val_loss"
        higher_is_better = False

    task = LossTask("digits-loss", train, val, test)
    with pytest.raises(NotImplementedError, match="must define worst_score"):
        _ = task.worst_score


def test_population_env_needs_reset_and_tracks_best_below_zero() -> None:
    env = gym.make_vec(
        MLP,
        num_envs=2,
        vectorization_mode="vector_entry_point",
        budget=4,
        reward="linear",
        reward_kwargs={"weight": 5.0},
        **FAST,
    )
    space = env.unwrapped.search_space
    rng = np.random.default_rng(0)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.stack([space.sample(rng) for _ in range(2)]))
    env.reset(seed=0)
    obs, rewards, _, _, _ = env.step(np.stack([space.sample(rng) for _ in range(2)]))
    assert (rewards < 0).all()  # large FLOPs penalty: every reward is negative
    assert obs[0, 2] == pytest.approx(rewards.max(), rel=1e-6)  # best so far, not 0
    env.close()


def test_synapse_env_refuses_workers() -> None:
    with pytest.raises(ValueError, match="workers must be 1 for synapse envs"):
        gym.make("darwin_bench/Digits-Synapses-v0", workers=2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"space": "rnn"}, "space 'rnn' reads token ids; task 'digits' has real-valued inputs"),
        ({"task": "charlm", "space": "mlp"}, "space 'mlp' reads real-valued inputs"),
    ],
)
def test_a_space_that_cannot_read_the_task_inputs_is_refused(kwargs: dict, message: str) -> None:
    """Found by the kwargs fuzz: an rnn space on digits crashed in the first step."""
    with pytest.raises(ValueError, match=message):
        gym.make("darwin_bench/Digits-MLP-v0", **kwargs, **FAST)
