"""``budget_kind`` on live envs: exact training FLOPs, measured seconds, every env form."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from darwin_bench.budgets import train_flops_per_sample
from darwin_bench.seeding import torch_determinism

MLP = "darwin_bench/Digits-MLP-v0"
FAST = {"epochs": 2, "measure_latency": False}


def expected_train_flops(env: gym.Env, genome: np.ndarray, epochs: int) -> float:
    core = env.unwrapped.core
    architecture = core.space.decode(genome)
    with torch_determinism(0):
        model = core.task.build(architecture)
    per_sample = train_flops_per_sample(model, core.task.example_input(1))
    return float(per_sample * len(core.task.y_train) * epochs)


def test_train_flops_charge_exactly_what_was_trained() -> None:
    env = gym.make(MLP, budget=1e9, budget_kind="train_flops", **FAST)
    _, info = env.reset(seed=0)
    assert info["budget_kind"] == "train_flops"
    space = env.unwrapped.search_space
    rng = np.random.default_rng(0)
    used, truncated, steps = 0.0, False, 0
    while not truncated:
        genome = space.sample(rng)
        epochs = 1 + steps % 2
        env.unwrapped.set_fidelity({"epochs": epochs})
        price = env.unwrapped.price(genome, {"epochs": epochs})
        _, _, _, truncated, info = env.step(genome)
        assert info["spent"] == price == expected_train_flops(env, genome, epochs)
        used += price
        steps += 1
        assert info["budget_used"] == pytest.approx(used)
        assert info["budget_kind"] == "train_flops" and info["budget"] == 1e9
    # The run ended on the evaluation that reached the budget, and only then.
    assert used >= 1e9 > used - info["spent"]
    assert env.unwrapped.budget_left == 0
    _, reward, _, truncated, info = env.step(space.sample(rng))  # evaluates nothing
    assert (reward, truncated, info["budget_exhausted"]) == (0.0, True, True)
    assert info["budget_used"] == pytest.approx(used)
    with pytest.raises(RuntimeError, match="budget exhausted: .* train_flops spent"):
        env.unwrapped.core.evaluate([space.sample(rng)])


def test_train_flops_runs_are_deterministic() -> None:
    def run() -> list[tuple[float, float]]:
        env = gym.make(MLP, budget=5e8, budget_kind="train_flops", **FAST)
        env.reset(seed=3)
        rng = np.random.default_rng(3)
        out, truncated = [], False
        while not truncated:
            _, reward, _, truncated, info = env.step(env.unwrapped.search_space.sample(rng))
            out.append((float(reward), info["spent"]))
        return out

    assert run() == run()


def test_a_cached_proposal_costs_the_same_as_a_fresh_one() -> None:
    env = gym.make(MLP, budget=1e12, budget_kind="train_flops", **FAST)
    env.reset(seed=0)
    genome = env.unwrapped.search_space.sample(np.random.default_rng(1))
    first = env.step(genome)[4]
    again = env.step(genome)[4]
    assert again["evaluation_id"] == first["evaluation_id"]
    assert again["spent"] == first["spent"] and again["budget_used"] == 2 * first["spent"]


def test_measured_seconds_are_charged_and_marked_not_reproducible() -> None:
    env = gym.make(MLP, budget=0.05, budget_kind="seconds", **FAST)
    env.reset(seed=0)
    core = env.unwrapped.core
    assert core.describe()["budget_reproducible"] is False
    assert env.unwrapped.price(env.unwrapped.search_space.sample(np.random.default_rng(0))) is None
    rng = np.random.default_rng(0)
    truncated, spent = False, []
    while not truncated:
        _, _, _, truncated, info = env.step(env.unwrapped.search_space.sample(rng))
        assert info["spent"] == info["evaluation"].train_seconds > 0
        spent.append(info["spent"])
    assert sum(spent) >= 0.05 > sum(spent[:-1])
    flops = gym.make(MLP, budget_kind="train_flops", **FAST).unwrapped.core
    assert flops.describe()["budget_reproducible"] is True


def test_population_env_evaluates_only_what_starts_within_the_budget() -> None:
    vec = gym.make_vec(
        MLP,
        num_envs=4,
        vectorization_mode="vector_entry_point",
        budget=1.0,
        budget_kind="train_flops",
        **FAST,
    )
    vec.reset(seed=0)
    space = vec.unwrapped.search_space
    genomes = np.stack([space.sample(np.random.default_rng(i)) for i in range(4)])
    _, rewards, _, truncated, info = vec.step(genomes)
    assert info["evaluated"].tolist() == [True, False, False, False]  # 1 FLOP: one starts
    assert truncated.all() and rewards[1:].tolist() == [0.0, 0.0, 0.0]


def test_builder_env_charges_the_network_it_built() -> None:
    env = gym.make("darwin_bench/Digits-MLP-Builder-v0", budget=1e12, budget_kind="train_flops")
    env.reset(seed=0)
    unwrapped = env.unwrapped
    done, info = False, {}
    while not done:
        _, _, done, _, info = env.step(int(np.flatnonzero(unwrapped.action_masks())[0]))
    genome = unwrapped.search_space.encode(unwrapped.core.space.decode(info["evaluation"].genome))
    assert info["spent"] == expected_train_flops(env, genome, 20)
    assert unwrapped.budget_left == pytest.approx(1e12 - info["spent"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"budget_kind": "epochs"}, "budget_kind must be one of 'evaluations', 'train_flops'"),
        ({"budget_kind": "train_flops", "budget": -5.0}, "budget must be a finite number > 0"),
    ],
)
def test_bad_budget_kwargs(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        gym.make(MLP, **kwargs)


def test_train_flops_needs_a_task_that_counts_its_samples() -> None:
    with pytest.raises(ValueError, match="budget_kind 'train_flops' needs a task.*'cartpole'"):
        gym.make("darwin_bench/CartPole-MLP-v0", budget_kind="train_flops", budget=1e9)
