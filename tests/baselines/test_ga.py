"""The genetic algorithm: exact budget, determinism, one evaluator call per generation, elitism."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from baselines import AGENTS, make_agent
from baselines.base import EnvFactory
from baselines.ga import GAConfig, GeneticAlgorithm
from baselines.runner import run_agent

ENV = "darwin_bench/Digits-MLP-v0"
FAST = {"epochs": 1, "measure_latency": False}


class CountingFactory(EnvFactory):
    """An env factory that counts evaluator calls and their sizes."""

    def __init__(self, budget: int) -> None:
        super().__init__(ENV, {**FAST, "budget": budget}, [])
        self.calls: list[int] = []
        self.forms: list[str] = []
        self.rewards: list[float] = []
        self.recorders.append(lambda e: self.rewards.append(float(e.reward)))

    def _count(self, env: Any, form: str) -> Any:
        evaluator = env.unwrapped.core.evaluator
        original = evaluator.evaluate

        def counted(requests: Any) -> Any:
            self.calls.append(len(requests))
            return original(requests)

        evaluator.evaluate = counted
        self.forms.append(form)
        return env

    def make(self) -> Any:
        return self._count(super().make(), "single")

    def make_vec(self, num_envs: int) -> Any:
        return self._count(super().make_vec(num_envs), "vector")


def test_registered() -> None:
    assert AGENTS["ga"] is GeneticAlgorithm


def test_budget_is_spent_exactly(tmp_path: Path) -> None:
    result = run_agent(
        "ga",
        ENV,
        budget=11,
        seed=0,
        out_dir=tmp_path,
        env_kwargs=FAST,
        agent_config={"population_size": 4},
    )
    assert len(result.record.evaluations) == 11
    assert [e.step for e in result.record.evaluations] == list(range(11))
    assert result.record.complete


def test_same_seed_same_rewards(tmp_path: Path) -> None:
    def rewards(out: str, seed: int) -> list[float]:
        record = run_agent(
            "ga",
            ENV,
            budget=10,
            seed=seed,
            out_dir=tmp_path / out,
            env_kwargs=FAST,
            agent_config={"population_size": 4},
        ).record
        return [float(e.reward) for e in record.evaluations]

    first, second = rewards("a", 3), rewards("b", 3)
    assert first == second
    assert rewards("c", 4) != first


def test_one_evaluator_call_per_generation() -> None:
    factory = CountingFactory(budget=10)
    agent = make_agent("ga", {"population_size": 4})
    agent.run(factory, seed=0)
    assert factory.forms == ["vector"]
    assert factory.calls == [4, 4, 2]  # the last generation is cut to the budget left
    assert len(factory.rewards) == 10


def test_falls_back_to_the_proposal_env() -> None:
    factory = CountingFactory(budget=7)
    make_agent("ga", {"population_size": 3, "vectorized": False}).run(factory, seed=0)
    assert factory.forms == ["single"]
    assert factory.calls == [1] * 7


def test_elitism_keeps_the_best() -> None:
    factory = CountingFactory(budget=20)
    agent = GeneticAlgorithm(GAConfig(population_size=4, elitism=1, mutation_rate=1.0))
    agent.run(factory, seed=1)
    assert len(agent.generations) == 5
    best_so_far = -np.inf
    seen = 0
    for pool in agent.generations:
        seen += len(pool) - (1 if pool is not agent.generations[0] else 0)
        best_so_far = max(best_so_far, max(factory.rewards[:seen]))
        assert pool[0].fitness == best_so_far  # the best individual ever is in every pool
    assert len(agent.generations[1]) == 5  # 4 children + 1 carried elite


def test_no_genome_is_evaluated_twice() -> None:
    factory = CountingFactory(budget=16)
    agent = GeneticAlgorithm(GAConfig(population_size=4))
    agent.run(factory, seed=2)
    pooled = [ind.genome.tobytes() for pool in agent.generations for ind in pool]
    carried_elites = len(agent.generations) - 1  # elitism=1: one carried copy per later pool
    assert len(pooled) - carried_elites == 16
    assert len(set(pooled)) == 16


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"population": 4}, "population"),
        ({"population_size": 0}, "population_size"),
        ({"elitism": 8}, "elitism"),
        ({"mutation_rate": 1.5}, "mutation_rate"),
        ({"crossover_rate": "high"}, "crossover_rate"),
        ({"tournament_size": -1}, "tournament_size"),
        ({"specialize": "yes"}, "specialize"),
    ],
)
def test_bad_config_is_a_value_error(config: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        make_agent("ga", config)


def test_specialize_needs_a_base_network() -> None:
    factory = CountingFactory(budget=4)
    with pytest.raises(ValueError, match="Specialize"):
        make_agent("ga", {"specialize": True, "population_size": 2}).run(factory, seed=0)
