"""Tabular envs answer exactly what the live env would, from the table, in microseconds."""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from tiny_tables import LIVE, TINY_MLP, tabular_kwargs

from darwin_bench.evaluation import EvalRequest
from darwin_bench.tables import Table
from envs.tabular import TableMismatchWarning, TabularEnv, TabularPopulationEnv


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_every_lookup_is_the_live_evaluation(kind: str, tiny_tables: dict) -> None:
    env = TabularEnv(**tabular_kwargs(kind, tiny_tables[kind]), budget=50)
    live = gym.make(
        LIVE[kind], **{k: v for k, v in tabular_kwargs(kind, "").items() if k != "table"}
    )
    core, live_core = env.core, live.unwrapped.core
    env.reset(seed=4)
    for genome in core.table.genomes:
        for epochs in range(1, core.table.max_epochs + 1):
            env.set_fidelity({"epochs": epochs})
            _, reward, _, _, info = env.step(genome)
            request = EvalRequest(core.space.decode(genome), info["seed"], {"epochs": epochs})
            [trained] = live_core.evaluator.evaluate([request])
            looked_up = info["evaluation"]
            assert looked_up.evaluation_id == trained.evaluation_id
            assert looked_up.metrics == trained.metrics
            assert looked_up.status == trained.status == "ok"
            exact = {n: v for n, v in trained.costs.items() if "latency_ms" not in n or "@" in n}
            assert {n: looked_up.costs[n] for n in exact} == exact
            live_core._reward(trained)
            assert reward == trained.reward


def test_test_metrics_reach_records_not_agents(tiny_tables: dict) -> None:
    env = TabularEnv(**tabular_kwargs("mlp", tiny_tables["mlp"]), budget=3)
    records = []
    env.core.add_recorder(records.append)
    env.reset(seed=0)
    _, _, _, _, info = env.step(env.core.table.genomes[0])
    assert not any(k.startswith("test_") for k in info["metrics"])
    assert info["evaluation"].test_metrics == {}
    assert set(records[0].test_metrics) == {"test_accuracy", "test_loss"}


def test_the_seed_comes_from_the_run_seed(tiny_tables: dict) -> None:
    table = Table.load(tiny_tables["mlp"])

    def seeds(run_seed: int) -> list[int]:
        env = TabularEnv(**tabular_kwargs("mlp", tiny_tables["mlp"]), budget=10)
        env.reset(seed=run_seed)
        return [env.step(g)[4]["seed"] for g in table.genomes]

    assert seeds(1) == seeds(1)
    assert any(seeds(1) != seeds(s) for s in range(2, 8))
    for row, seed in enumerate(seeds(5)):
        assert seed in table.seeds[row].tolist()


def test_seconds_are_simulated_and_reproducible(tiny_tables: dict) -> None:
    def run() -> list[float]:
        env = TabularEnv(
            **tabular_kwargs("mlp", tiny_tables["mlp"]), budget=0.05, budget_kind="seconds"
        )
        env.reset(seed=0)
        rng = np.random.default_rng(0)
        spent, truncated = [], False
        while not truncated:
            genome = env.search_space.sample(rng)
            price = env.price(genome)
            _, _, _, truncated, info = env.step(genome)
            assert info["spent"] == price == info["evaluation"].train_seconds > 0
            spent.append(info["spent"])
        return spent

    first = run()
    assert first == run() and sum(first) >= 0.05 > sum(first[:-1])
    env = TabularEnv(**tabular_kwargs("mlp", tiny_tables["mlp"]), budget_kind="seconds")
    assert env.core.describe()["budget_reproducible"] is True


def test_train_flops_are_the_live_ones(tiny_tables: dict) -> None:
    kwargs = tabular_kwargs("mlp", tiny_tables["mlp"])
    env = TabularEnv(**kwargs, budget_kind="train_flops", budget=1e12)
    live_kwargs = {k: v for k, v in kwargs.items() if k != "table"}
    live = gym.make(LIVE["mlp"], **live_kwargs, budget_kind="train_flops", budget=1e12)
    for genome in env.core.table.genomes:
        assert env.price(genome, {"epochs": 2}) == live.unwrapped.price(genome, {"epochs": 2})


def test_population_env_over_a_table(tiny_tables: dict) -> None:
    vec = TabularPopulationEnv(num_envs=3, **tabular_kwargs("mlp", tiny_tables["mlp"]), budget=4)
    vec.reset(seed=0)
    genomes = np.stack(list(vec.core.table.genomes[:3]))
    _, rewards, _, truncated, info = vec.step(genomes)
    assert info["evaluated"].tolist() == [True] * 3 and not truncated.any() and (rewards > 0).all()
    _, _, _, truncated, info = vec.step(genomes)
    assert info["evaluated"].tolist() == [True, False, False] and truncated.all()


def test_the_run_log_header_records_the_table(tiny_tables: dict) -> None:
    env = TabularEnv(**tabular_kwargs("mlp", tiny_tables["mlp"]))
    described = env.core.describe()["table"]
    table = Table.load(tiny_tables["mlp"])
    assert described["content_hash"] == table.content_hash
    assert described["data_hash"] == table.meta["task_spec"]["data_hash"]


def test_gymnasium_checker_and_pickle(tiny_tables: dict) -> None:
    env = TabularEnv(**tabular_kwargs("mlp", tiny_tables["mlp"]), budget=6)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        check_env(env, skip_render_check=True)
    clone = pickle.loads(pickle.dumps(env))
    assert clone.action_space == env.action_space


def test_a_stale_table_is_loaded_with_a_warning(tiny_tables: dict, tmp_path: Path) -> None:
    table = Table.load(tiny_tables["mlp"])
    spec = {**table.meta["task_spec"], "data_hash": "0" * 64}
    stale = Table({**table.meta, "task_spec": spec}, table.arrays).save(tmp_path / "stale.npz")
    with pytest.warns(TableMismatchWarning, match="data hash 0000.*darwin-bench table build"):
        TabularEnv(**tabular_kwargs("mlp", stale))


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"space_kwargs": {"max_layers": 2}}, "space_kwargs must be the table's"),
        ({"task": "mnist"}, "task must be the table's"),
        ({"epochs": 4}, r"epochs must be in 1..3 on this table"),
        ({"table": "no-such-table"}, "table must be a packaged table"),
    ],
)
def test_bad_kwargs(tiny_tables: dict, override: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TabularEnv(**{**tabular_kwargs("mlp", tiny_tables["mlp"]), **override})


def test_live_only_kwargs_have_no_effect(tiny_tables: dict) -> None:
    kwargs = tabular_kwargs("mlp", tiny_tables["mlp"])
    plain = TabularEnv(**kwargs)
    other = TabularEnv(**kwargs, workers=2, measure_latency=False, batched=False)
    for env in (plain, other):
        env.reset(seed=0)
    genome = plain.core.table.genomes[1]
    assert plain.step(genome)[4]["evaluation"] == other.step(genome)[4]["evaluation"]
    assert TINY_MLP["epochs"] == plain.core.table.max_epochs


def test_builder_form_over_a_table(tiny_tables: dict) -> None:
    from envs.tabular import TabularBuilderEnv

    kwargs = {**tabular_kwargs("mlp", tiny_tables["mlp"]), "budget": 2}
    builder, proposal = TabularBuilderEnv(**kwargs), TabularEnv(**kwargs)
    builder.reset(seed=3)
    proposal.reset(seed=3)
    done, info = False, {}
    while not done:
        valid = np.flatnonzero(builder.action_masks())
        _, _, done, _, info = builder.step(int(valid[-1]))
    genome = np.asarray(info["evaluation"].genome)
    assert proposal.step(genome)[4]["evaluation_id"] == info["evaluation_id"]
