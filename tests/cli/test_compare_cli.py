"""``darwin-bench compare``: table, JSON, plots, identical output for identical seeds, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from darwin_bench.cli import main

ENV = "darwin_bench/Digits-MLP-v0"


def run(out: Path, *extra: str) -> int:
    return main(
        [
            "compare",
            "--agents",
            "random,local,sh",
            "--env",
            ENV,
            "--seeds",
            "2",
            "--budget",
            "4",
            "--epochs",
            "2",
            "--env-kwargs",
            '{"measure_latency": false}',
            "--out",
            str(out),
            "--no-progress",
            *extra,
        ]
    )


def test_json_twice_is_identical_and_plots_are_written(tmp_path: Path, capsys) -> None:
    assert run(tmp_path / "a", "--json") == 0
    first = json.loads(capsys.readouterr().out)
    assert run(tmp_path / "b", "--json") == 0
    second = json.loads(capsys.readouterr().out)
    assert first == second
    assert [a["agent"] for a in first["agents"]] == ["random", "local", "sh"]
    assert first["budget"] == 4 and first["seeds"] == 2
    for name in (
        "best_so_far.png",
        "accuracy_vs_cost.png",
        "performance_profiles.png",
        "comparison.json",
    ):
        assert (tmp_path / "a" / name).stat().st_size > 0
    assert json.loads((tmp_path / "a" / "comparison.json").read_text()) == first
    assert len(list((tmp_path / "a").glob("*.jsonl"))) == 6


def test_table_is_printed(tmp_path: Path, capsys) -> None:
    assert run(tmp_path) == 0
    out = capsys.readouterr().out
    for text in ("reward IQM", "test accuracy mean", "AUC", "random", "sh", "[", "P(row > column)"):
        assert text in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--agents", "random,nope"], "agent must be one of"),
        (["--agents", "ppo"], "supports: darwin_bench/"),
        (["--agents", "random", "--seeds", "0"], "seeds"),
        (["--agents", "random", "--agent-config", '{"random": 3}'], "--agent-config"),
    ],
)
def test_bad_input_exits_2_with_one_line(args: list[str], message: str, tmp_path, capsys) -> None:
    code = main(
        ["compare", "--env", ENV, "--budget", "2", "--out", str(tmp_path), "--no-progress", *args]
    )
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1
