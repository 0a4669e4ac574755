"""AskTell: only active genes are asked, repeats are free, the budget is spent exactly."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from baselines.ask_tell import AskTell
from envs.helpers import helpers

ENV = "darwin_bench/Digits-MLP-v0"
FAST = {"epochs": 1, "measure_latency": False}


def make(budget: int = 4) -> tuple[gym.Env, AskTell]:
    env = gym.make(ENV, budget=budget, **FAST)
    return env, AskTell(env, seed=0)


def test_only_active_genes_are_asked() -> None:
    env, adapter = make()
    asked: list[str] = []

    def choose(gene) -> int:
        asked.append(gene.name)
        return 0  # depth choice 0: one hidden layer

    genome = adapter.suggest(choose)
    assert genome is not None
    active = adapter.space.active_genes(genome)
    assert asked == [g.name for g, a in zip(adapter.genes, active) if a]
    assert len(asked) < len(adapter.genes)  # the layer genes beyond depth 1 were not asked
    assert adapter.params(genome) == dict.fromkeys(asked, 0)
    assert helpers(env).budget_left == 4  # suggesting spends nothing
    env.close()


def test_repeats_are_answered_from_the_cache_without_spending() -> None:
    env, adapter = make(budget=3)
    genome = adapter.space.sample(np.random.default_rng(1))
    first = adapter.evaluate(genome)
    assert not first.cached and helpers(env).budget_left == 2
    again = adapter.evaluate(genome)
    assert again.cached and again.reward == first.reward and helpers(env).budget_left == 2
    # A genome that differs only in inactive genes is the same network.
    raw = genome.copy()
    inactive = np.flatnonzero(~adapter.space.active_genes(genome))
    if len(inactive):
        raw[inactive[0]] = 1
        assert adapter.evaluate(raw).cached
    # Another fidelity is another evaluation.
    assert not adapter.evaluate(genome, fidelity={"epochs": 2}).cached
    assert helpers(env, "proposal").fidelity == {"epochs": 1}  # restored
    assert helpers(env).budget_left == 1
    # again=True steps the env anyway (a space smaller than the budget): it spends.
    forced = adapter.evaluate(genome, again=True)
    assert not forced.cached and forced.reward == first.reward and helpers(env).budget_left == 0
    env.close()


def test_the_budget_is_spent_exactly_and_then_new_genomes_are_refused() -> None:
    env, adapter = make(budget=3)
    rng = np.random.default_rng(0)
    seen = []
    while not adapter.done:
        genome = adapter.space.sample(rng)
        if not adapter.seen(genome):
            seen.append(genome)
        adapter.evaluate(genome)
    assert len(seen) == 3 and helpers(env).budget_left == 0
    assert adapter.evaluate(seen[0]).cached  # answers stay free
    fresh = next(g for g in (adapter.space.sample(rng) for _ in range(100)) if not adapter.seen(g))
    with pytest.raises(RuntimeError, match="budget is spent"):
        adapter.evaluate(fresh)
    adapter.reset(seed=1)
    assert not adapter.done and not adapter.seen(seen[0]) and helpers(env).budget_left == 3
    env.close()


def test_static_params_name_missing_and_unknown_genes() -> None:
    env, adapter = make()
    genome = adapter.space.sample(np.random.default_rng(2))
    params = adapter.params(genome)
    assert np.array_equal(adapter.genome(params), genome)
    with pytest.raises(ValueError, match="missing"):
        adapter.genome({k: v for k, v in params.items() if k != "depth"})
    with pytest.raises(ValueError, match="not genes"):
        adapter.genome({**params, "colour": 1})
    with pytest.raises(ValueError, match="must be in"):
        adapter.suggest(lambda gene: 99)
    env.close()


def test_only_proposal_envs() -> None:
    env = gym.make("darwin_bench/Digits-MLP-Builder-v0", budget=2, **FAST)
    with pytest.raises(ValueError, match="not a darwin_bench proposal env"):
        AskTell(env)
    env.close()
