"""table recost: a recalibrated device profile re-costs a table without training; nothing else
in the table changes, and the env over it then matches the running code."""

from __future__ import annotations

import json
import shutil
import warnings
from dataclasses import replace
from pathlib import Path

import pytest
from tiny_tables import LIVE, TINY_MLP, tabular_kwargs

from darwin_bench.cli import main
from darwin_bench.costs import DEVICES, LatencyConfig
from darwin_bench.tables import Table
from darwin_bench.tables.recost import recost_table
from envs.tabular import TableMismatchWarning, TabularEnv, build_plan

DEVICE = "raspberry-pi-4"


def test_unchanged_profiles_reproduce_the_table(tiny_tables: dict) -> None:
    table = Table.load(tiny_tables["mlp"])
    plan = build_plan(LIVE["mlp"], TINY_MLP)
    same, report = recost_table(table, plan.task, plan.space, plan.cost_config)
    assert same is table and report["changed_devices"] == []
    assert set(report["max_relative_change"].values()) == {0.0}


def test_a_recalibrated_profile_changes_its_columns_only(tiny_tables: dict) -> None:
    table = Table.load(tiny_tables["mlp"])
    plan = build_plan(LIVE["mlp"], TINY_MLP)
    slower = DEVICES[DEVICE].model_copy(update={"peak_gflops": DEVICES[DEVICE].peak_gflops / 4})
    devices = tuple(slower if d.name == DEVICE else d for d in plan.cost_config.devices)
    recosted, report = recost_table(
        table, plan.task, plan.space, replace(plan.cost_config, devices=devices)
    )
    assert report["changed_devices"] == [DEVICE]
    assert report["content_hash"] == recosted.content_hash != table.content_hash
    assert recosted.meta["recost"][0]["from_content_hash"] == table.content_hash
    changed = {n for n, v in table.arrays.items() if (recosted.arrays[n] != v).any()}
    assert changed <= {f"cost:latency_ms@{DEVICE}", f"cost:energy_mj@{DEVICE}"}
    assert f"cost:latency_ms@{DEVICE}" in changed
    assert (
        recosted.arrays[f"cost:latency_ms@{DEVICE}"] >= table.arrays[f"cost:latency_ms@{DEVICE}"]
    ).all()


def test_other_cost_settings_need_a_rebuild(tiny_tables: dict) -> None:
    table = Table.load(tiny_tables["mlp"])
    plan = build_plan(LIVE["mlp"], TINY_MLP)
    other = replace(plan.cost_config, latency_config=LatencyConfig(repeats=7))
    with pytest.raises(ValueError, match="latency_config.*table build.*--remeasure-latency"):
        recost_table(table, plan.task, plan.space, other)
    eager = replace(plan.cost_config, latency_eager=True)
    with pytest.raises(ValueError, match="latency_eager.*table build"):
        recost_table(table, plan.task, plan.space, eager, remeasure=True)


def test_a_new_latency_protocol_is_retimed_on_request(tiny_tables: dict) -> None:
    table = Table.load(tiny_tables["mlp"])
    plan = build_plan(LIVE["mlp"], TINY_MLP)
    protocol = replace(plan.cost_config.latency_config, repeats=7, quantile=0.5)
    other = replace(plan.cost_config, latency_config=protocol)
    retimed, report = recost_table(table, plan.task, plan.space, other, remeasure=True)
    assert retimed.meta["cost_config"]["latency_config"]["repeats"] == 7
    assert retimed.meta["recost"][-1]["remeasured"]["latency_config"] == protocol.to_dict()
    assert report["content_hash"] == retimed.content_hash != table.content_hash
    changed = {n for n, v in table.arrays.items() if (retimed.arrays[n] != v).any()}
    assert "cost:latency_ms" in changed
    assert changed <= {"cost:latency_ms", "cost:latency_ms_q1", "cost:latency_ms_q3"}
    latency = retimed.arrays["cost:latency_ms"]
    assert (latency > 0).all() and (latency == latency[:, :1]).all()  # one timing per network
    assert report["remeasured"]["costs"] == sorted(
        ["latency_ms", "latency_ms_q1", "latency_ms_q3", "latency_threads"]
    )
    assert 0 < report["remeasured"]["latency_ms_new_over_old"]["median"] < 100


def test_the_cli_recosts_a_stale_table_in_place(
    tiny_tables: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    path = Path(shutil.copy(tiny_tables["mlp"], tmp_path / "t.npz"))
    before = Table.load(path).content_hash
    slower = DEVICES[DEVICE].model_copy(update={"peak_gflops": DEVICES[DEVICE].peak_gflops / 4})
    monkeypatch.setitem(DEVICES, DEVICE, slower)  # a recalibrated profile lands
    with pytest.warns(TableMismatchWarning, match="cost settings"):
        TabularEnv(**tabular_kwargs("mlp", path))
    argv = ["table", "recost", "--env", LIVE["mlp"], "--table", str(path), "--json"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["from_content_hash"] == before != report["content_hash"]
    assert Table.load(path).content_hash == report["content_hash"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", TableMismatchWarning)
        TabularEnv(**tabular_kwargs("mlp", path))
    assert main(argv) == 0  # again: nothing left to re-cost, the file is unchanged
    assert json.loads(capsys.readouterr().out)["changed_devices"] == []
    assert Table.load(path).content_hash == report["content_hash"]
