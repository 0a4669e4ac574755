"""Regularized evolution: every proposal env, exact budget, determinism, aging, bad config."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from baselines import AGENTS, make_agent
from baselines.rea import RegularizedEvolution
from baselines.runner import run_agent
from envs.registration import ENVS

ENV = "darwin_bench/Digits-MLP-v0"
FAST = {"epochs": 1, "measure_latency": False}
PROPOSAL = [pytest.param(e, id=e.id) for e in ENVS if e.form in RegularizedEvolution.forms]


def test_registered() -> None:
    assert AGENTS["rea"] is RegularizedEvolution


@pytest.mark.parametrize("entry", PROPOSAL)
def test_runs_on_every_proposal_env(entry, tmp_path: Path) -> None:
    config = {"population_size": 2, "sample_size": 2}
    result = run_agent(
        "rea",
        entry.id,
        budget=3,
        seed=0,
        out_dir=tmp_path,
        env_kwargs=entry.test_kwargs,
        agent_config=config,
    )
    assert result.record.complete and len(result.record.evaluations) == 3


def test_same_seed_same_run(tmp_path: Path) -> None:
    config = {"population_size": 4, "sample_size": 2}
    runs = [
        run_agent(
            "rea",
            ENV,
            budget=8,
            seed=3,
            out_dir=tmp_path / str(i),
            env_kwargs=FAST,
            agent_config=config,
        )
        for i in range(2)
    ]
    first, second = (r.record.evaluations for r in runs)
    assert len(first) == 8
    assert [e.genome for e in first] == [e.genome for e in second]
    assert [e.reward for e in first] == [e.reward for e in second]


def test_parents_are_living_members_and_the_oldest_dies(tmp_path: Path, monkeypatch) -> None:
    """Each child mutates the best of a sample of the last ``population_size`` evaluations."""
    space_class = type(make_env_space())
    calls: list[tuple[list[int], list[int]]] = []
    original = space_class.mutate

    def spy(self, genome, rng):
        child = original(self, genome, rng)
        calls.append((np.asarray(genome).tolist(), child.tolist()))
        return child

    monkeypatch.setattr(space_class, "mutate", spy)
    size = 3
    config = {"population_size": size, "sample_size": size}  # S = P: always the best
    record = run_agent(
        "rea", ENV, budget=9, seed=1, out_dir=tmp_path, env_kwargs=FAST, agent_config=config
    ).record
    evals = record.evaluations
    assert len(calls) == 9 - size
    for i, (parent, child) in enumerate(calls, start=size):
        alive = evals[i - size : i]
        best = max(alive, key=lambda e: e.reward)  # ties: the first (oldest) sampled may differ
        assert parent in [e.genome for e in alive if e.reward == best.reward]
        assert evals[i].genome == child


def make_env_space():
    from envs.core import SearchCore

    return SearchCore(task="digits", space="mlp", **FAST).space


@pytest.mark.parametrize(
    ("config", "field"),
    [({"population_size": 0}, "population_size"), ({"sample_size": -1}, "sample_size")],
)
def test_bad_config_names_the_field(config: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        make_agent("rea", config)
