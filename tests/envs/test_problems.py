"""envs.problems: env ids resolved to their task and space, for the perf commands."""

from __future__ import annotations

import os

import pytest

from envs.problems import offline, problem, problems


def test_problem_of_an_env() -> None:
    name, task, space = problem("darwin_bench/Digits-CNN-v0")
    assert name == "digits/cnn"
    assert task.input_shape == (1, 8, 8) and space.name == "cnn"


def test_problems_are_distinct_and_unknown_envs_are_named() -> None:
    found, skipped = problems("darwin_bench/Digits-MLP-v0,darwin_bench/Digits-MLP-Builder-v0")
    assert [name for name, _, _ in found] == ["digits/mlp"] and skipped == {}
    with pytest.raises(ValueError, match="Nope-v0"):
        problems("darwin_bench/Nope-v0")


def test_offline_restores_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DARWIN_BENCH_OFFLINE", raising=False)
    with offline():
        assert os.environ["DARWIN_BENCH_OFFLINE"] == "1"
    assert "DARWIN_BENCH_OFFLINE" not in os.environ
