"""Successive halving: rung plans, promotions of the best, fidelity per step, exact budget."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from baselines import AGENTS, make_agent
from baselines.runner import run_agent
from baselines.successive_halving import SuccessiveHalving, rung_epochs, rung_sizes
from envs.registration import ENVS

ENV = "darwin_bench/Digits-MLP-v0"
PROPOSAL = [pytest.param(e, id=e.id) for e in ENVS if e.form in SuccessiveHalving.forms]


def test_registered() -> None:
    assert AGENTS["sh"] is SuccessiveHalving


def test_rung_epochs() -> None:
    assert rung_epochs(20, 3, 3) == [2, 7, 20]
    assert rung_epochs(9, 3, 3) == [1, 3, 9]
    assert rung_epochs(2, 3, 3) == [1, 2]
    assert rung_epochs(1, 3, 3) == [1]
    assert rung_epochs(10, 2, 4) == [1, 2, 5, 10]


def test_rung_sizes_fill_the_budget_at_most() -> None:
    assert rung_sizes(30, 3, 3) == [21, 7, 2]
    assert rung_sizes(12, 2, 3) == [9, 3]
    assert rung_sizes(4, 3, 3) == [2, 1, 1]
    assert rung_sizes(2, 3, 3) == [2, 0, 0]
    for budget in range(1, 60):
        assert sum(rung_sizes(budget, 3, 3)) <= budget


def test_rung_sizes_with_prices_by_hand() -> None:
    # Rung prices 1, 3, 9 (epochs 1, 3, 9 under train_flops): n0 = 35 costs 35 + 33 + 27.
    assert rung_sizes(100, 3, 3, [1.0, 3.0, 9.0]) == [35, 11, 3]
    assert rung_sizes(5, 3, 3, [2.0, 6.0, 18.0]) == [2, 0, 0]  # not one per rung: rung 0 only
    with pytest.raises(ValueError, match="prices must be > 0"):
        rung_sizes(5, 2, 3, [0.0, 1.0])


def test_pays_for_what_it_trains_under_train_flops(tmp_path: Path) -> None:
    kwargs = {"epochs": 9, "measure_latency": False, "budget_kind": "train_flops"}
    record = run_agent("sh", ENV, budget=5e9, seed=0, out_dir=tmp_path, env_kwargs=kwargs).record
    evals = record.evaluations
    epochs = [e.fidelity["epochs"] for e in evals]
    # The first bracket: 9 networks at 1 epoch, the best 3 at 3, then full epochs; a bracket
    # sized to what is left follows when the prices were overestimated.
    assert epochs[:13] == [1] * 9 + [3] * 3 + [9]
    rung0 = sorted(evals[:9], key=lambda e: -e.reward)
    assert [e.genome for e in evals[9:12]] == [e.genome for e in rung0[:3]]
    spent = [float(e.spent) for e in evals]
    assert sum(spent) >= 5e9 > sum(spent[:-1])
    # A promoted network pays for the epochs it trains: 3 and 9 times its 1-epoch price.
    first = {tuple(e.genome): float(e.spent) for e in evals[:9]}
    for e in evals[9:13]:
        assert float(e.spent) == e.fidelity["epochs"] * first[tuple(e.genome)]


@pytest.mark.parametrize("entry", PROPOSAL)
def test_runs_on_every_proposal_env(entry, tmp_path: Path) -> None:
    result = run_agent(
        "sh", entry.id, budget=4, seed=0, out_dir=tmp_path, env_kwargs=entry.test_kwargs
    )
    evaluations = result.record.evaluations
    assert result.record.complete and len(evaluations) == 4
    # The last evaluation is at the env's own fidelity, the first at a lower one (if any).
    full = result.record.header["problem"]["fidelity"]
    assert evaluations[-1].fidelity == full
    assert all(evaluations[0].fidelity[k] <= v for k, v in full.items())


def test_promotes_the_best_of_each_rung(tmp_path: Path) -> None:
    kwargs = {"epochs": 9, "measure_latency": False}
    evals = run_agent(
        "sh", ENV, budget=13, seed=0, out_dir=tmp_path, env_kwargs=kwargs
    ).record.evaluations
    assert len(evals) == 13
    epochs = [e.fidelity["epochs"] for e in evals]
    assert epochs == [1] * 9 + [3] * 3 + [9] * 1  # n0 = 9 with eta 3: 9 + 3 + 1 = 13
    rung0 = sorted(evals[:9], key=lambda e: -e.reward)
    assert [e.genome for e in evals[9:12]] == [e.genome for e in rung0[:3]]
    rung1 = sorted(evals[9:12], key=lambda e: -e.reward)
    assert evals[12].genome == rung1[0].genome
    assert len({tuple(e.genome) for e in evals[:9]}) == 9


def test_leftover_budget_promotes_more_to_the_last_rung(tmp_path: Path) -> None:
    kwargs = {"epochs": 3, "measure_latency": False}
    evals = run_agent(
        "sh",
        ENV,
        budget=7,
        seed=1,
        out_dir=tmp_path,
        env_kwargs=kwargs,
        agent_config={"rungs": 2},
    ).record.evaluations
    # rung_sizes(7, 2, 3) = [5, 1]; the left-over unit promotes one more to the last rung.
    assert rung_sizes(7, 2, 3) == [5, 1]
    assert [e.fidelity["epochs"] for e in evals] == [1] * 5 + [3] * 2
    best_two = sorted(evals[:5], key=lambda e: -e.reward)[:2]
    assert [e.genome for e in evals[5:]] == [e.genome for e in best_two]


def test_fidelity_helper_is_validated_and_reset() -> None:
    env = gym.make(ENV, epochs=2, budget=3, measure_latency=False)
    env.reset(seed=0)
    proposal = env.unwrapped
    assert proposal.set_fidelity({"epochs": 1}) == {"epochs": 1}
    _, _, _, _, info = env.step(proposal.search_space.sample(np.random.default_rng(0)))
    assert info["fidelity"] == {"epochs": 1}
    with pytest.raises(ValueError, match="epochs"):
        proposal.set_fidelity({"epochs": 0})
    with pytest.raises(ValueError, match="fidelity"):
        proposal.set_fidelity({"depth": 2})
    env.reset(seed=0)
    assert proposal.fidelity == {"epochs": 2}


@pytest.mark.parametrize(("config", "field"), [({"eta": 1}, "eta"), ({"rungs": 0}, "rungs")])
def test_bad_config_names_the_field(config: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        make_agent("sh", config)


def test_the_last_rung_runs_when_promoted_networks_cost_more(tmp_path: Path) -> None:
    # Under train_flops a bracket is sized from the prices of random networks, but the best of
    # a rung are dearer (wider): before each higher rung, sh re-prices the promoted networks
    # and shrinks the rungs so the last one still runs. Without it this run (seed 1, 200 x the
    # median price) spent everything at 2 and 7 epochs and never trained one at 20.
    evals = run_agent(
        "sh",
        "darwin_bench/Digits-MLP-Tab-v0",
        budget=1.4e11,
        seed=1,
        out_dir=tmp_path,
        env_kwargs={"budget_kind": "train_flops"},
    ).record.evaluations
    epochs = [e.fidelity["epochs"] for e in evals]
    assert epochs.count(20) >= 10
    assert 1.4e11 <= sum(e.spent or 0.0 for e in evals) <= 1.4e11 * 1.01
