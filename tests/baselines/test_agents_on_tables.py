"""Every built-in proposal agent through ``compare`` on a tiny tabular env (4 networks): each
run spends exactly its budget and ends, even when the budget is larger than the space."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import gymnasium as gym
import pytest
from tiny_tables import tabular_kwargs

from baselines import AGENTS
from baselines.compare import compare
from envs import registration
from envs.registration import EnvEntry, register_entry

ENV = "darwin_bench/TinyMLP-Tab-v0"
PROPOSAL_AGENTS = sorted(n for n, cls in AGENTS.items() if "proposal" in cls.forms)


@pytest.fixture
def tiny_track(tiny_tables: dict, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    entry = EnvEntry(
        ENV,
        "proposal",
        tabular_kwargs("mlp", tiny_tables["mlp"]),
        "the tiny MLP table of the tests",
        {},
        entry_point="envs.tabular:TabularEnv",
        vector_entry_point="envs.tabular:TabularPopulationEnv",
    )
    monkeypatch.setattr(registration, "ENVS", [*registration.ENVS, entry])
    register_entry(entry)
    yield ENV
    del gym.registry[ENV]


def test_every_proposal_agent_spends_its_budget_on_a_tiny_table(
    tiny_track: str, tmp_path: Path
) -> None:
    assert {"random", "tpe", "nsga2", "sh"} <= set(PROPOSAL_AGENTS)
    configs = {"ga": {"population_size": 4, "elitism": 1}, "nsga2": {"population_size": 4}}
    comparison = compare(
        PROPOSAL_AGENTS,
        tiny_track,
        seeds=2,
        budget=8,  # twice the space: the agents must repeat networks to spend it
        out_dir=tmp_path,
        agent_configs={k: v for k, v in configs.items() if k in PROPOSAL_AGENTS},
    )
    for result in comparison.results:
        for record in comparison.records[result.spec]:
            assert len(record.evaluations) == 8, result.agent
            assert record.complete
    assert comparison.to_dict()["agents"][0]["final_best_reward"]["iqm"]["n"] == 2
