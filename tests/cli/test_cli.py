"""The ``darwin-bench`` command: list, evaluate, run, and bad input (exit 2, one line)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from darwin_bench.cli import main
from darwin_bench.runlog import read_runlog

FAST = ["--env-kwargs", '{"measure_latency": false}', "--epochs", "1"]


def test_list_json(capsys) -> None:
    assert main(["list", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    ids = [e["id"] for e in data["envs"]]
    assert "darwin_bench/Digits-MLP-v0" in ids and "darwin_bench/Digits-MLP-Builder-v0" in ids
    assert {"accuracy", "linear", "mnasnet", "constrained"} <= set(data["rewards"])
    assert {"params", "synapses", "flops", "latency_ms"} <= set(data["costs"])
    assert "random" in data["agents"]


def test_list_table(capsys) -> None:
    assert main(["list"]) == 0
    assert "Digits-CNN-v0" in capsys.readouterr().out


def test_evaluate_prints_metrics_and_costs(capsys) -> None:
    genome = "1,2,0,3,1,0,0,0,0,1"
    assert (
        main(
            ["evaluate", "--env", "darwin_bench/Digits-MLP-v0", "--genome", genome, "--json", *FAST]
        )
        == 0
    )
    record = json.loads(capsys.readouterr().out)
    assert record["status"] == "ok"
    assert record["architecture"]["layers"][0] == {
        "type": "dense",
        "units": 64,
        "activation": "relu",
    }
    assert record["costs"]["params"] == 64 * 64 + 64 + 128 * 64 + 128 + 128 * 10 + 10


def test_run_writes_log_plot_and_table(tmp_path, capsys) -> None:
    args = [
        "run",
        "--agent",
        "random",
        "--env",
        "darwin_bench/Digits-MLP-v0",
        "--budget",
        "4",
        "--seed",
        "3",
        "--out",
        str(tmp_path),
        "--no-progress",
        *FAST,
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Best networks" in out
    [log] = list(tmp_path.glob("*.jsonl"))
    run = read_runlog(log)
    assert run.complete and len(run.evaluations) == 4
    assert run.header["agent"] == "random" and run.header["seed"] == 3
    assert run.header["data_hash"] and run.header["machine"]["torch"]
    assert log.with_suffix(".png").stat().st_size > 1000


def test_run_with_a_train_flops_budget(tmp_path, capsys) -> None:
    args = ["run", "--agent", "sh", "--env", "darwin_bench/Digits-MLP-v0", "--budget", "3e9"]
    args += ["--budget-kind", "train_flops", "--out", str(tmp_path), "--no-progress", *FAST]
    assert main(args) == 0
    [log] = list(tmp_path.glob("*.jsonl"))
    run = read_runlog(log)
    assert run.header["budget_kind"] == "train_flops" and run.header["budget"] == 3e9
    assert run.footer is not None and run.footer["budget_used"] >= 3e9


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            [
                *("run", "--agent", "random", "--env", "darwin_bench/Digits-MLP-v0"),
                *("--budget", "2", "--budget-kind", "dollars"),
            ],
            "budget_kind must be one of 'evaluations', 'train_flops', 'seconds'",
        ),
        (
            ["run", "--agent", "random", "--env", "darwin_bench/Digits-MLP-v0", "--budget", "2.5"],
            "budget must be a positive integer",
        ),
        (
            ["run", "--agent", "nope", "--env", "darwin_bench/Digits-MLP-v0", "--budget", "2"],
            "agent must be one of 'random'",
        ),
        (
            ["run", "--agent", "random", "--env", "darwin_bench/Nope-v0", "--budget", "2"],
            "env must be one of darwin_bench/Digits-MLP-v0",
        ),
        (
            ["run", "--agent", "random", "--env", "darwin_bench/Digits-MLP-v0", "--budget", "0"],
            "--budget: budget must be a positive integer",
        ),
        (
            ["evaluate", "--env", "darwin_bench/Digits-MLP-v0", "--genome", "1,2"],
            "genome must be a flat sequence of 10 integers",
        ),
        (
            ["evaluate", "--env", "darwin_bench/Digits-MLP-v0", "--genome", "a,b"],
            "genome must be integers",
        ),
        (
            [
                "evaluate",
                "--env",
                "darwin_bench/Digits-MLP-v0",
                "--genome",
                "0,0,0,0,0,0,0,0,0,0",
                "--reward",
                "best",
            ],
            "reward must be one of",
        ),
        (
            [
                "evaluate",
                "--env",
                "darwin_bench/Digits-MLP-v0",
                "--genome",
                "0,0,0,0,0,0,0,0,0,0",
                "--cost",
                "watts",
            ],
            "cost must be one of",
        ),
        (
            [
                "evaluate",
                "--env",
                "darwin_bench/Digits-MLP-v0",
                "--genome",
                "0,0,0,0,0,0,0,0,0,0",
                "--epochs",
                "0",
            ],
            "argument --epochs: must be a positive integer",
        ),
        (
            [
                "run",
                "--agent",
                "random",
                "--env",
                "darwin_bench/Digits-MLP-v0",
                "--budget",
                "2",
                "--env-kwargs",
                "[1]",
            ],
            "--env-kwargs must be a JSON object",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(argv: list[str], message: str, capsys) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert message in err and "Traceback" not in err


def test_console_script_exit_code_without_traceback() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "darwin_bench.cli",
            "run",
            "--agent",
            "random",
            "--env",
            "darwin_bench/Digits-MLP-v0",
            "--budget",
            "-1",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "darwin-bench run: error: --budget: budget must be a positive integer (>= 1); got -1"
    ]
