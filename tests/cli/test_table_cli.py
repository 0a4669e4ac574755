"""``darwin-bench table build | verify | info`` and ``perf tabular`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
from tiny_tables import TINY_MLP, tabular_kwargs

from darwin_bench.cli import main
from envs.registration import EnvEntry, register_entry

LIVE = "darwin_bench/Digits-MLP-v0"


def test_build_info_verify(tmp_path: Path, capsys) -> None:
    out = tmp_path / "t.npz"
    args = ["table", "build", "--env", LIVE, "--out", str(out), "--seeds", "1"]
    assert main([*args, "--env-kwargs", json.dumps(TINY_MLP), "--json"]) == 0
    built = json.loads(capsys.readouterr().out)
    assert built["architectures"] == 4 and built["seeds"] == 1 and out.exists()
    assert main(["table", "info", "--env", LIVE, "--table", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["mismatches"] == [] and info["content_hash"] == built["content_hash"]
    verify = ["table", "verify", "--env", LIVE, "--table", str(out), "--sample", "2", "--json"]
    assert main(verify) == 0
    assert json.loads(capsys.readouterr().out)["passed"] is True


def test_an_env_without_a_table_is_one_line(capsys) -> None:
    assert main(["table", "info", "--env", LIVE]) == 2
    err = capsys.readouterr().err.strip()
    assert err.splitlines() == [err] and "has no table" in err


def test_perf_tabular_measures_steps(tiny_tables: dict, capsys) -> None:
    kwargs = tabular_kwargs("mlp", tiny_tables["mlp"])
    entry = EnvEntry(
        "darwin_bench/TinyMLP-Tab-v0",
        "proposal",
        kwargs,
        entry_point="envs.tabular:TabularEnv",
        vector_entry_point="envs.tabular:TabularPopulationEnv",
    )
    register_entry(entry)
    args = ["perf", "tabular", "--env", entry.id, "--steps", "300", "--repeats", "2", "--json"]
    try:
        assert main(args) == 0
    finally:
        del gym.registry[entry.id]
    report = json.loads(capsys.readouterr().out)
    assert report["steps"] == 300 and report["steps_per_second"] > 0
    assert report["wrappers"] == ["OrderEnforcing", "PassiveEnvChecker"]
    assert report["table_load_seconds"]["cold"] < 1.0 and report["architectures"] == 4
