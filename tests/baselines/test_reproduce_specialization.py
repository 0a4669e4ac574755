"""The specialization reproduction: the GA's specialize mode, the strict config, the summaries
(intervals, at-size comparison, fronts) and the command end to end with tiny settings."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from baselines.base import EnvFactory
from baselines.ga import GAConfig, GeneticAlgorithm
from baselines.reproduce_specialization import SpecializationConfig
from baselines.specialization_report import at_size, best_within, fronts
from darwin_bench.cli import main as cli_main
from darwin_bench.compare_stats import mean_ci

ENV = "darwin_bench/Digits-MLP-Specialize-v0"
ENV_KWARGS = {
    "epochs": 1,
    "measure_latency": False,
    "task_kwargs": {"base_hidden": [32, 32], "base_classes": [0, 1, 2, 3, 4], "base_epochs": 3},
    "space_kwargs": {"base_hidden": [32, 32]},
}
TINY_ROW = {"budget": 4, "population_size": 2, "base_epochs": 1, "finetune_epochs": 1}
TINY = {
    "seeds": [0, 1],
    "latency_rounds": 1,
    "processes": 2,
    "scenes": {
        **TINY_ROW,
        "scratch_epochs": 1,
        "base_conv": [{"filters": 4}, {"filters": 8}],
        "base_hidden": [8],
        "pretext_scenes": 60,
        "labelled": 40,
        "val": 30,
        "test": 30,
    },
    "digits": {**TINY_ROW, "scratch_epochs": 1, "base_hidden": [32, 32]},
}


def test_ga_specialization_starts_from_the_base() -> None:
    factory = EnvFactory(ENV, {**ENV_KWARGS, "budget": 6}, [])
    agent = GeneticAlgorithm(GAConfig(population_size=3, specialize=True))
    agent.run(factory, seed=0)
    evaluated = [ind.genome for ind in agent.generations[0]]
    assert any(np.array_equal(g, [7, 7]) for g in evaluated)  # the base itself
    all_genomes = [ind.genome for pool in agent.generations for ind in pool]
    assert sum(len(pool) for pool in agent.generations) == 6 + len(agent.generations) - 1
    assert any(int(g.max()) < 7 for g in all_genomes)  # squeezed children


def test_config_is_strict_and_nested() -> None:
    config = SpecializationConfig.from_dict({"scenes": {"budget": 8}, "seeds": [3]})
    assert config.scenes.budget == 8 and config.digits.budget == 40
    assert config.to_dict()["scenes"]["labelled"] == 500
    with pytest.raises(ValueError, match="budgett"):
        SpecializationConfig.from_dict({"scenes": {"budgett": 8}})
    with pytest.raises(ValueError, match="'budget'"):
        SpecializationConfig.from_dict({"digits": {"budget": "8"}})
    with pytest.raises(ValueError, match="tuning_seeds"):
        SpecializationConfig.from_dict({"seeds": [100]})
    with pytest.raises(ValueError, match="rows"):
        SpecializationConfig.from_dict({"rows": ["cifar"]})
    with pytest.raises(ValueError, match="large_width"):
        SpecializationConfig.from_dict({"scenes": {"large_width": 3.0}})


def test_mean_ci_matches_a_hand_computed_t_interval() -> None:
    ci = mean_ci([1.0, 2.0, 3.0])  # sd 1, se 1/sqrt(3), t(0.975, 2) = 4.3027
    assert ci["mean"] == 2.0 and ci["high"] == pytest.approx(2.0 + 4.3027 / 3**0.5, rel=1e-4)
    ratio = mean_ci([2.0, 0.5], log=True)
    assert ratio["mean"] == pytest.approx(1.0) and ratio["low"] < 1.0 < ratio["high"]
    assert mean_ci([4.0])["low"] is None
    with pytest.raises(ValueError):
        mean_ci([1.0, -1.0], log=True)


def test_at_size_picks_by_validation_within_the_size() -> None:
    candidates = [
        {"params": 100, "val_error": 10.0, "test_error": 12.0},
        {"params": 100, "val_error": 9.0, "test_error": 20.0},  # best validation: chosen
        {"params": 500, "val_error": 1.0, "test_error": 1.0},  # too big for the 200 network
    ]
    assert best_within(candidates, 200) == candidates[1]
    assert best_within(candidates, 50) is None
    seed = {
        "candidates": candidates,
        "scratch": [{"width": 0.5, "params": 200, "test_error": 15.0},
                    {"width": 0.1, "params": 10, "test_error": 50.0}],
    }  # fmt: skip
    assert at_size(seed) == {"0.5": -5.0, "0.1": None}
    front = fronts([seed])["specialized"][0]
    assert front == [(100, 12.0), (500, 1.0)]


def test_reproduce_command_prints_intervals_for_both_rows(tmp_path: Path, capsys) -> None:
    code = cli_main(
        ["reproduce", "specialization", "--json", "--out", str(tmp_path), "--options",
         json.dumps(TINY)]
    )  # fmt: skip
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["held_out_seeds"] == [0, 1] and result["primary_row"] == "scenes"
    for name in ("scenes", "digits"):
        row = result["rows"][name]
        summary = row["summary"]
        for key in ("latency_ratio", "size_ratio", "error_difference"):
            assert summary[key]["n"] == 2 and summary[key]["low"] <= summary[key]["high"]
        assert set(summary["modeled_latency_ratio"]) >= {"raspberry-pi-4"}
        sizes = [s["specialized"]["params"] / s["large"]["params"] for s in row["seeds"]]
        assert summary["size_ratio"]["mean"] == pytest.approx(np.exp(-np.mean(np.log(sizes))))
        assert all(s["specialized"]["reproduced_exactly"] for s in row["seeds"])
        assert len(row["fronts"]["specialized"]) == 2
        assert [s["seed"] for s in row["seeds"]] == [0, 1]  # in order, from 2 processes
    scenes = result["rows"]["scenes"]["seeds"][0]
    assert "position_error_px" in scenes["base"] and len(scenes["scratch"]) == 3
    assert result["size_ratio"] == result["rows"]["scenes"]["summary"]["size_ratio"]["mean"]
    assert Path(result["plot"]).stat().st_size > 0


def test_reproduce_rejects_unknown_names_and_options(tmp_path: Path, capsys) -> None:
    assert cli_main(["reproduce", "nope", "--out", str(tmp_path)]) == 2
    assert "specialization" in capsys.readouterr().err
    bad = ["reproduce", "specialization", "--out", str(tmp_path), "--options", '{"budgett": 1}']
    assert cli_main(bad) == 2
    assert "budgett" in capsys.readouterr().err


def test_tune_mode_reports_validation_errors_only(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    from baselines import specialization_tuning

    grid = {
        "base_epochs": [1],
        "finetune_epochs": [1, 2],
        "finetune_lr": [1e-3],
        "scratch_epochs": [1, 2],
    }
    monkeypatch.setitem(specialization_tuning.GRIDS, "digits", grid)
    options = {**TINY, "processes": 1, "mode": "tune", "rows": ["digits"], "tuning_seeds": [100]}
    code = cli_main(
        ["reproduce", "specialization", "--json", "--out", str(tmp_path), "--options",
         json.dumps(options)]
    )  # fmt: skip
    assert code == 0
    result = json.loads(capsys.readouterr().out)["rows"]["digits"]
    assert set(result["validation_error"]) == {
        "base_epochs=1,finetune_epochs=1,finetune_lr=0.001",
        "base_epochs=1,finetune_epochs=2,finetune_lr=0.001",
        "scratch_epochs=1", "scratch_epochs=2",
    }  # fmt: skip
    errors = result["validation_error"]
    chosen = result["chosen"]
    best = min(("1", "2"), key=lambda e: errors[f"scratch_epochs={e}"])
    assert chosen["scratch_epochs"] == int(best) and chosen["base_epochs"] == 1
    assert chosen["finetune_lr"] == 1e-3
    assert "test" not in json.dumps(result).replace("test data", "")
