"""The population env trains a generation as one batched population; a network's evaluation
is the same in the proposal env (alone) and the population env (in a batch)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

KWARGS = {"epochs": 2, "measure_latency": False}
ENV = "darwin_bench/Digits-MLP-v0"


def test_proposal_and_population_envs_agree_network_by_network() -> None:
    env = gym.make(ENV, **KWARGS)
    venv = gym.make_vec(ENV, num_envs=4, vectorization_mode="vector_entry_point", **KWARGS)
    try:
        genomes = np.stack(
            [env.unwrapped.search_space.sample(np.random.default_rng(i)) for i in range(4)]
        )
        env.reset(seed=3)
        venv.reset(seed=3)
        _, rewards, _, _, info = venv.step(genomes)
        for i, genome in enumerate(genomes):
            _, reward, _, _, single = env.step(genome)
            assert reward == rewards[i]
            assert single["metrics"] == {k: v[i] for k, v in info["metrics"].items() if k[0] != "_"}
            assert single["evaluation_id"] == info["evaluation_id"][i]
    finally:
        env.close()
        venv.close()


def test_batched_false_uses_the_per_model_trainer() -> None:
    env = gym.make(ENV, batched=False, **KWARGS)
    batched = gym.make(ENV, **KWARGS)
    try:
        genome = env.unwrapped.search_space.sample(np.random.default_rng(0))
        env.reset(seed=1)
        batched.reset(seed=1)
        _, _, _, _, per_model = env.step(genome)
        _, _, _, _, info = batched.step(genome)
        assert per_model["evaluation_id"] != info["evaluation_id"]  # another trainer, another key
        assert abs(per_model["metrics"]["accuracy"] - info["metrics"]["accuracy"]) < 0.2
        assert env.unwrapped.core.describe()["batched"] is False
    finally:
        env.close()
        batched.close()
