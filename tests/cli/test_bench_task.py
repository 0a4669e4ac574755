"""``darwin-bench bench-task``: repeated fresh evaluations, medians, bad input."""

from __future__ import annotations

import json

from darwin_bench.cli import main

FAST = ["--env-kwargs", '{"measure_latency": false}', "--epochs", "1"]
GENOME = "0,2,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0"  # one LSTM layer of 32, embedding 16


def test_bench_task_reports_medians_over_fresh_seeds(capsys) -> None:
    args = ["bench-task", "--env", "darwin_bench/CharLM-RNN-v0", "--genome", GENOME]
    kwargs = ["--env-kwargs", '{"measure_latency": false, "task_kwargs": {"train_tokens": 4096}}']
    assert main([*args, "--repeats", "2", "--json", "--epochs", "1", *kwargs]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["evaluations"] == 2 and summary["failed"] == 0
    assert summary["metric"] == "bpc" and summary["fidelity"] == {"epochs": 1}
    bpc = summary["bpc"]
    assert bpc["min"] <= bpc["median"] <= bpc["max"]
    assert bpc["min"] < bpc["max"]  # two seeds, two trainings (no cache hit)
    assert summary["median_wall_seconds"] >= summary["median_train_seconds"] > 0
    assert summary["task"]["data_hash"]


def test_bench_task_table_and_bad_input(capsys) -> None:
    genome = "1,2,0,3,1,0,0,0,0,1"
    assert (
        main(
            [
                "bench-task",
                "--env",
                "darwin_bench/Digits-MLP-v0",
                "--genome",
                genome,
                "--repeats",
                "1",
                *FAST,
            ]
        )
        == 0
    )
    assert "seconds / evaluation" in capsys.readouterr().out
    code = main(
        [
            "bench-task",
            "--env",
            "darwin_bench/Digits-MLP-v0",
            "--genome",
            genome,
            "--repeats",
            "0",
            *FAST,
        ]
    )
    assert code == 2
    assert "repeats" in capsys.readouterr().err
