"""Hyperband: bracket plans by hand, the bracket cycle, and paying for what it trains."""

from __future__ import annotations

from pathlib import Path

import pytest

from baselines import AGENTS, make_agent
from baselines.hyperband import Hyperband, hyperband_brackets
from baselines.runner import run_agent

ENV = "darwin_bench/Digits-MLP-v0"


def test_registered() -> None:
    assert AGENTS["hyperband"] is Hyperband


def test_brackets_by_hand() -> None:
    # R = 20, eta = 3: s_max = 2 (9 <= 20 < 27).
    assert hyperband_brackets(20, 3) == [[(9, 2), (3, 7), (1, 20)], [(5, 7), (1, 20)], [(3, 20)]]
    assert hyperband_brackets(9, 3) == [[(9, 1), (3, 3), (1, 9)], [(5, 3), (1, 9)], [(3, 9)]]
    assert hyperband_brackets(4, 2, min_epochs=2) == [[(2, 2), (1, 4)], [(2, 4)]]
    assert hyperband_brackets(2, 3) == [[(1, 2)]]  # too few epochs to halve: random search
    with pytest.raises(ValueError, match="min_epochs must be at most the env's epochs"):
        hyperband_brackets(4, 3, min_epochs=5)


def test_cycles_brackets_and_promotes_the_best(tmp_path: Path) -> None:
    kwargs = {"epochs": 9, "measure_latency": False}
    evals = run_agent(
        "hyperband", ENV, budget=30, seed=0, out_dir=tmp_path, env_kwargs=kwargs
    ).record.evaluations
    epochs = [e.fidelity["epochs"] for e in evals]
    # Brackets s = 2, 1, 0 (13 + 6 + 3 evaluations), then s = 2 again until the budget ends.
    assert epochs == [1] * 9 + [3] * 3 + [9] + [3] * 5 + [9] + [9] * 3 + [1] * 8
    rung0 = sorted(evals[:9], key=lambda e: -e.reward)
    assert [e.genome for e in evals[9:12]] == [e.genome for e in rung0[:3]]
    assert len({tuple(e.genome) for e in evals[:9] + evals[13:18] + evals[19:22]}) == 17


def test_pays_for_what_it_trains(tmp_path: Path) -> None:
    kwargs = {"epochs": 9, "measure_latency": False, "budget_kind": "train_flops"}
    record = run_agent(
        "hyperband", ENV, budget=6e9, seed=0, out_dir=tmp_path, env_kwargs=kwargs
    ).record
    by_epochs: dict[str, dict[int, float]] = {}
    for e in record.evaluations:
        by_epochs.setdefault(str(e.architecture), {})[e.fidelity["epochs"]] = float(e.spent)
    promoted = [prices for prices in by_epochs.values() if {1, 3} <= set(prices)]
    assert promoted and all(p[3] == 3 * p[1] for p in promoted)  # epochs x the 1-epoch price
    assert sum(float(e.spent) for e in record.evaluations) >= 6e9


def test_bad_config_names_the_field() -> None:
    with pytest.raises(ValueError, match="eta"):
        make_agent("hyperband", {"eta": 1})
    with pytest.raises(ValueError, match="min_epochs"):
        make_agent("hyperband", {"min_epochs": 0})
