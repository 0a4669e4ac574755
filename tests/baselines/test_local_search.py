"""Local search: every proposal env, exact budget, no repeats, hill-climbing moves, config."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from baselines import AGENTS, make_agent
from baselines.local_search import LocalSearch
from baselines.runner import run_agent
from envs.registration import ENVS

ENV = "darwin_bench/Digits-MLP-v0"
FAST = {"epochs": 1, "measure_latency": False}
PROPOSAL = [pytest.param(e, id=e.id) for e in ENVS if e.form in LocalSearch.forms]


def test_registered() -> None:
    assert AGENTS["local"] is LocalSearch


@pytest.mark.parametrize("entry", PROPOSAL)
def test_runs_on_every_proposal_env(entry, tmp_path: Path) -> None:
    result = run_agent(
        "local", entry.id, budget=3, seed=0, out_dir=tmp_path, env_kwargs=entry.test_kwargs
    )
    assert result.record.complete and len(result.record.evaluations) == 3


@pytest.mark.parametrize("neighbourhood", ["neighbours", "mutate"])
def test_deterministic_and_never_repeats(neighbourhood: str, tmp_path: Path) -> None:
    config = {"neighbourhood": neighbourhood, "num_mutations": 5}
    runs = [
        run_agent(
            "local",
            ENV,
            budget=12,
            seed=2,
            out_dir=tmp_path / str(i),
            env_kwargs=FAST,
            agent_config=config,
        ).record.evaluations
        for i in range(2)
    ]
    assert [e.genome for e in runs[0]] == [e.genome for e in runs[1]]
    assert [e.reward for e in runs[0]] == [e.reward for e in runs[1]]
    genomes = [tuple(e.genome) for e in runs[0]]
    assert len(genomes) == 12 == len(set(genomes))


def test_patience_forces_restarts(tmp_path: Path) -> None:
    """With patience 1, a non-improving neighbour ends the climb: the next is a fresh start."""
    from envs.core import SearchCore

    space = SearchCore(task="digits", space="mlp", **FAST).space
    evals = run_agent(
        "local",
        ENV,
        budget=12,
        seed=0,
        out_dir=tmp_path,
        env_kwargs=FAST,
        agent_config={"patience": 1},
    ).record.evaluations
    neighbours_of = {tuple(e.genome): {tuple(n) for n in space.neighbours(e.genome)} for e in evals}
    current = evals[0]
    restarts = 0
    for previous, e in pairwise(evals):
        if tuple(e.genome) in neighbours_of[tuple(current.genome)]:
            assert previous is current or previous.reward <= current.reward
            if e.reward > current.reward:
                current = e
        else:  # a restart happens only after a non-improving neighbour
            assert previous is not current and previous.reward <= current.reward
            current = e
            restarts += 1
    assert restarts >= 1


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"neighbourhood": "ring"}, "neighbourhood"),
        ({"num_mutations": 0}, "num_mutations"),
        ({"patience": 0}, "patience"),
    ],
)
def test_bad_config_names_the_field(config: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        make_agent("local", config)
