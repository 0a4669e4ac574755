"""``perf latency-targets``: the rule behind the tasks' default ``latency_ms`` targets."""

from __future__ import annotations

import json

import pytest

from darwin_bench.perf.latency_targets import round_significant


def test_targets_are_rounded_to_two_significant_figures() -> None:
    assert round_significant(0.012345) == 0.012
    assert round_significant(1.26) == 1.3
    assert round_significant(346.0) == 350.0
    with pytest.raises(ValueError, match="positive"):
        round_significant(0.0)


def test_latency_targets_command_reports_the_median_of_each_task(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from darwin_bench.cli import main

    envs = "darwin_bench/Digits-MLP-v0,darwin_bench/Digits-CNN-v0,darwin_bench/CartPole-MLP-v0"
    args = ["perf", "latency-targets", "--json", "--envs", envs, "--samples", "3"]
    assert main([*args, "--repeats", "5"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["tasks"]) == {"digits", "cartpole"}
    digits = report["tasks"]["digits"]
    assert digits["n"] == 6 and set(digits["by_space"]) == {"digits/mlp", "digits/cnn"}
    assert digits["target"] == round_significant(digits["median_ms"])
    assert digits["current"] > 0 and report["timing"]["repeats"] == 5
    assert main([*args[:-1], "0"]) == 2
