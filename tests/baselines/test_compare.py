"""compare: statistics by hand, identical results for identical seeds, resume, bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from baselines.compare import compare, default_seeds, parse_agents
from baselines.compare_plots import (
    accuracy_cost_points,
    plot_accuracy_vs_cost,
    plot_best_so_far_bands,
    plot_performance_profiles,
)
from darwin_bench import stats
from darwin_bench.compare_stats import (
    GRID_POINTS,
    best_so_far_curve,
    budget_axis,
    mean_se,
    normalized_auc,
)

ENV = "darwin_bench/Digits-MLP-v0"
FAST = {"epochs": 1, "measure_latency": False}


def test_best_so_far_curve_by_hand() -> None:
    curve = best_so_far_curve([0.2, None, 0.5, 0.1], budget=6)
    assert curve.tolist() == [0.2, 0.2, 0.5, 0.5, 0.5, 0.5]  # padded to the budget
    assert best_so_far_curve([None, 0.3], budget=2).tolist() == [0.0, 0.3]
    assert normalized_auc(curve) == pytest.approx((0.2 + 0.2 + 0.5 * 4) / 6)


def test_best_so_far_against_the_spend_by_hand() -> None:
    # Evaluations complete at spends 3, 4, 9 and 12 (the last one overshoots a budget of 10).
    rewards, spent = [0.2, 0.5, 0.4, 0.9], [3.0, 1.0, 5.0, 3.0]
    axis = np.array([1.0, 3.0, 5.0, 10.0])
    assert best_so_far_curve(rewards, 10, spent, axis).tolist() == [0.0, 0.2, 0.5, 0.5]
    assert budget_axis("train_flops", 10).tolist() == pytest.approx(
        np.linspace(10 / GRID_POINTS, 10, GRID_POINTS).tolist()
    )
    assert budget_axis("evaluations", 3).tolist() == [1.0, 2.0, 3.0]


def test_mean_and_standard_error_by_hand() -> None:
    stats = mean_se([1.0, 2.0, 4.0])
    assert stats.mean == pytest.approx(7 / 3)
    sd = math.sqrt(((1 - 7 / 3) ** 2 + (2 - 7 / 3) ** 2 + (4 - 7 / 3) ** 2) / 2)
    assert stats.se == pytest.approx(sd / math.sqrt(3))
    assert mean_se([0.5]).se is None and mean_se([0.5]).format() == "0.5000"
    assert mean_se([None, float("nan")]).mean is None


def test_identical_seeds_give_identical_comparisons(tmp_path: Path) -> None:
    agents = ["random", "rea", "local"]
    configs = {"rea": {"population_size": 3, "sample_size": 2}}
    runs = [
        compare(
            agents,
            ENV,
            seeds=2,
            budget=5,
            out_dir=tmp_path / name,
            env_kwargs=FAST,
            agent_configs=configs,
        )
        for name in ("a", "b")
    ]
    first, second = (json.dumps(c.to_dict(), sort_keys=True) for c in runs)
    assert first == second
    data = runs[0].to_dict()
    assert [a["agent"] for a in data["agents"]] == agents
    assert data["metric"] == "accuracy" and data["higher_is_better"] is True
    for agent in data["agents"]:
        finals = [r["final_best_reward"] for r in agent["runs"]]
        tests = [r["test_accuracy"] for r in agent["runs"]]
        final = agent["final_best_reward"]
        assert final["mean"]["estimate"] == pytest.approx(np.mean(finals))
        assert final["iqm"]["estimate"] == pytest.approx(stats.iqm(finals))
        assert final["mean"]["n"] == 2 and final["mean"]["low"] <= final["mean"]["high"]
        assert agent["test_metric"]["mean"]["estimate"] == pytest.approx(np.mean(tests))
        assert all(0 < t <= 1 for t in tests)
        for run in agent["runs"]:
            assert run["evaluations"] == 5 and run["auc"] <= run["final_best_reward"]
    # Every pair once, P(x > y) by hand from the runs' final rewards.
    pairs = [(p["x"], p["y"]) for p in data["probability_of_improvement"]]
    assert pairs == [("random", "rea"), ("random", "local"), ("rea", "local")]
    finals = {a["agent"]: [r["final_best_reward"] for r in a["runs"]] for a in data["agents"]}
    first_pair = data["probability_of_improvement"][0]["final_best_reward"]
    wins = [
        1.0 if a > b else 0.5 if a == b else 0.0 for a in finals["random"] for b in finals["rea"]
    ]
    assert first_pair["estimate"] == pytest.approx(np.mean(wins))
    profile = data["performance_profiles"]["final_best_reward"]["rea"]
    assert profile["profile"][0] == pytest.approx(
        np.mean(np.array(finals["rea"]) > profile["taus"][0])
    )
    # Plots are written.
    bands = plot_best_so_far_bands(runs[0], tmp_path / "a" / "best.png")
    front = plot_accuracy_vs_cost(runs[0], tmp_path / "a" / "front.png")
    profiles = plot_performance_profiles(runs[0], tmp_path / "a" / "profiles.png")
    for path in (bands, front, profiles):
        assert path.stat().st_size > 1000
    points = accuracy_cost_points(runs[0].records["random"], "flops")
    assert points and all(0 <= acc <= 1 and cost > 0 for acc, cost in points)


def test_compare_under_train_flops_reads_curves_against_flops(tmp_path: Path) -> None:
    kwargs = {**FAST, "budget_kind": "train_flops"}
    comparison = compare(
        ["random", "sh"], ENV, seeds=2, budget=2e9, out_dir=tmp_path, env_kwargs=kwargs
    )
    assert comparison.budget_kind == "train_flops" and comparison.to_dict()["budget"] == 2e9
    for result in comparison.results:
        for run, record in zip(result.runs, comparison.records[result.spec]):
            assert len(run.curve) == GRID_POINTS
            spent = np.cumsum([e.spent for e in record.evaluations])
            within = [e.reward for e, s in zip(record.evaluations, spent) if s <= 2e9]
            assert run.final_best == max(within)  # the overshooting evaluation is not counted
    bands = plot_best_so_far_bands(comparison, tmp_path / "best.png")
    assert bands.stat().st_size > 1000


def test_complete_logs_are_reused(tmp_path: Path) -> None:
    first = compare(["random"], ENV, seeds=2, budget=3, out_dir=tmp_path, env_kwargs=FAST)
    calls: list[object] = []
    second = compare(
        ["random"],
        ENV,
        seeds=2,
        budget=3,
        out_dir=tmp_path,
        env_kwargs=FAST,
        on_evaluation=calls.append,
    )
    assert calls == []  # nothing evaluated again
    assert first.to_dict() == second.to_dict()


def test_a_log_made_with_other_settings_is_refused(tmp_path: Path) -> None:
    compare(["random"], ENV, seeds=1, budget=3, out_dir=tmp_path, env_kwargs=FAST)
    with pytest.raises(ValueError, match="other settings"):
        compare(["random"], ENV, seeds=1, budget=3, out_dir=tmp_path, env_kwargs={"epochs": 2})


def test_unsupported_agent_fails_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'ppo' does not work on .*supports"):
        compare(["random", "ppo"], ENV, seeds=1, budget=2, out_dir=tmp_path, env_kwargs=FAST)
    assert not list(tmp_path.glob("*.jsonl"))


@pytest.mark.parametrize(
    ("text", "match"),
    [("", "at least one"), ("random,random", "repeated"), ("random,nope", "agent must be")],
)
def test_bad_agent_lists(text: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        parse_agents(text)


def test_agent_config_for_an_agent_not_compared(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="agent config"):
        compare(
            ["random"],
            ENV,
            seeds=1,
            budget=2,
            out_dir=tmp_path,
            agent_configs={"rea": {"population_size": 2}},
        )


def test_default_seeds_are_10_on_tabular_tracks_and_5_live(monkeypatch) -> None:
    from envs.registration import ENVS, EnvEntry

    assert default_seeds(ENV) == 5
    tabular = EnvEntry("darwin_bench/Scratch-MLP-Tab-v0", "proposal", {"table": "scratch"})
    monkeypatch.setattr("envs.registration.ENVS", [*ENVS, tabular])
    assert default_seeds(tabular.id) == 10
