"""The speed benchmarks run end to end at tiny sizes and print JSON (the figures themselves are
measured by the commands, not asserted by tests)."""

from __future__ import annotations

import json

import pytest

from darwin_bench.cli import main


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(["perf", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_perf_population(capsys) -> None:
    report = run_json(capsys, "population", "--n", "3", "--epochs", "1")
    assert report["networks"] == 3 and report["fidelity"] == {"epochs": 1}
    assert report["per_model"]["wall_seconds"] > 0 and report["batched"]["failed"] == []
    assert report["speedup"] > 0 and report["speedup_bound"] > 0
    bounds = report["bounds"]
    assert bounds["per_model_gemms"] == report["speedup_bound"]
    assert bounds["batched_gemm_only"]["cpu_seconds"] > 0 and bounds["batched_gemms"] > 0
    assert bounds["arithmetic"]["gflop"] > 0 and bounds["arithmetic"]["peak_gemm_gflops"] > 0
    assert report["batched_gemm_share"] > 0
    assert report["conditions_before"]["cpu_model"]  # figures move with the CPU
    assert 0 <= report["batched"]["mean_val_accuracy"] <= 1


def test_perf_population_refuses_bad_threads(capsys) -> None:
    assert main(["perf", "population", "--n", "2", "--threads", "0"]) == 2
    assert "threads" in capsys.readouterr().err


def test_perf_population_refuses_networks_without_a_batched_trainer(capsys) -> None:
    assert main(["perf", "population", "--env", "darwin_bench/Digits-CNN-v0", "--n", "2"]) == 2
    assert "no batched trainer" in capsys.readouterr().err


def test_perf_control(capsys) -> None:
    report = run_json(capsys, "control", "--timesteps", "256")
    assert report["mode"] == "equal_steps"
    assert report["seeds"] == [0] and report["test_episodes"] == 20
    assert report["sb3_default"]["timesteps"] == report["task"]["timesteps"] == 256  # equal steps
    assert report["sb3_default"]["ppo"]["n_steps"] == 2048  # SB3's defaults
    assert len(report["task"]["mean_test_return_per_seed"]) == 1
    assert report["meets_target"] is False  # 256 steps do not balance a pole


def test_perf_overhead(capsys) -> None:
    kwargs = json.dumps({"epochs": 1, "measure_latency": False})
    report = run_json(capsys, "overhead", "--steps", "2", "--env-kwargs", kwargs)
    assert report["steps"] == 2
    assert 0 < report["mean_training_and_costing_seconds"] < report["mean_step_seconds"]
    assert 0 < report["runlog_fraction"] < report["overhead_fraction"] < 1


def test_perf_control_at_equal_return(capsys) -> None:
    report = run_json(capsys, "control", "--budgets", "256,512")
    assert report["mode"] == "equal_return" and report["budgets"] == [256, 512]
    assert report["min_return"] == 475.0
    for side in ("sb3_default", "task"):
        # 512 steps balance no pole: both budgets tried, none reached, no speed-up claimed
        assert [row["timesteps"] for row in report[side]["tried"]] == [256, 512]
        assert report[side]["reached"] is None
    # whole rollouts: SB3's 1 env x 2,048 steps, the task's 8 envs x 256 steps
    assert report["sb3_default"]["tried"][0]["trained_steps"] == 2048
    assert report["task"]["tried"][0]["trained_steps"] == 8 * 256
    assert report["speedup"] is None and report["meets_target"] is False
    assert main(["perf", "control", "--budgets", "0,x"]) == 2
    assert "--budgets must be positive integers" in capsys.readouterr().err
    for bad in ("x", "", "0,-1", "1.5"):
        assert main(["perf", "control", "--seeds", bad]) == 2
        assert "--seeds must be integers >= 0" in capsys.readouterr().err
