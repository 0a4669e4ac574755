"""The Optuna agents: tpe maximizes the reward, nsga2 the objectives of reward="multi"."""

from __future__ import annotations

import numpy as np
import pytest

from baselines.nsga2 import NSGA2Config, objective_names
from baselines.runner import run_agent
from baselines.tpe import TPEConfig
from darwin_bench.pareto import pareto_front

ENV = "darwin_bench/Digits-MLP-v0"
FAST = {"epochs": 1, "measure_latency": False}
MULTI = {**FAST, "reward": "multi", "costs": ["params"]}


def test_tpe_spends_the_budget_on_distinct_networks_and_is_deterministic(tmp_path) -> None:
    config = {"n_startup_trials": 3}
    runs = [
        run_agent(
            "tpe", ENV, budget=8, seed=2, out_dir=tmp_path / d, env_kwargs=FAST, agent_config=config
        )
        for d in ("a", "b")
    ]
    first, second = (r.record for r in runs)
    assert len(first.evaluations) == 8
    assert first.rewards() == second.rewards()
    ids = [e.evaluation_id for e in first.evaluations]
    assert len(set(ids)) == len(ids)  # repeats were answered by the adapter, not the env


def test_nsga2_on_a_multi_reward_keeps_score_and_costs(tmp_path) -> None:
    result = run_agent(
        "nsga2",
        ENV,
        budget=10,
        seed=0,
        out_dir=tmp_path,
        env_kwargs=MULTI,
        agent_config={"population_size": 4},
    )
    evaluations = result.record.evaluations
    assert len(evaluations) == 10
    names = objective_names(evaluations[0].objectives)
    assert names == ["score", "flops", "params"]
    # The run log's Pareto front over (score, flops) is non-empty and non-dominated.
    points = [(e.objectives["score"], e.objectives["flops"]) for e in evaluations if e.ok]
    assert pareto_front(points)


def test_objective_names_without_extra_costs() -> None:
    assert objective_names({"score": 0.9, "cost": 10.0}) == ["score", "cost"]


@pytest.mark.parametrize(
    ("config", "data", "match"),
    [
        (TPEConfig, {"group": True, "multivariate": False}, "group needs multivariate"),
        (NSGA2Config, {"population_size": 1}, "population_size must be at least 2"),
        (NSGA2Config, {"crossover_prob": 1.5}, r"crossover_prob must be in \[0, 1\]"),
    ],
)
def test_bad_configs_name_the_field(config, data, match) -> None:
    with pytest.raises(ValueError, match=match):
        config.from_dict(data)


def test_nsga2_agent_escapes_endless_repeats(tmp_path) -> None:
    """A tiny space (1 layer, few widths): NSGA-II repeats itself; the run still ends."""
    kwargs = {**FAST, "space_kwargs": {"max_layers": 1}}
    result = run_agent(
        "nsga2",
        ENV,
        budget=12,
        seed=1,
        out_dir=tmp_path,
        env_kwargs=kwargs,
        agent_config={"population_size": 2, "max_repeats": 3},
    )
    ids = [e.evaluation_id for e in result.record.evaluations]
    assert len(ids) == 12 and len(set(ids)) == 12
    assert np.isfinite(result.record.rewards()).all()
