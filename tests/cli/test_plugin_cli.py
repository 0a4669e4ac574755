"""Plug-ins on the command line: ``--env PLUGIN.py:ID``, ``--env module:ID``, ``list --plugin``."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import darwin_bench
from darwin_bench.cli import main
from envs.plugins import PLUGIN_IDS

PLUGIN = """
import darwin_bench
from sklearn.datasets import load_wine

X, y = load_wine(return_X_y=True)
darwin_bench.register(darwin_bench.tasks.from_arrays(X, y, name="wine"), space="mlp")
"""


@pytest.fixture
def plugin(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "wine_plugin.py"
    path.write_text(PLUGIN)
    before = set(PLUGIN_IDS)
    yield path
    for env_id in set(PLUGIN_IDS) - before:
        darwin_bench.unregister(env_id)


def test_list_loads_plugins(plugin: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--json", "--plugin", str(plugin)]) == 0
    ids = [e["id"] for e in json.loads(capsys.readouterr().out)["envs"]]
    assert "darwin_bench/Wine-MLP-v0" in ids and "darwin_bench/Wine-MLP-Builder-v0" in ids


@pytest.mark.parametrize("form", ["{path}:Wine-MLP", "{path}:darwin_bench/Wine-MLP-v0", "{path}"])
def test_evaluate_a_plugin_env(plugin: Path, form: str, capsys: pytest.CaptureFixture[str]) -> None:
    env = form.format(path=plugin)
    assert main(["evaluate", "--env", env, "--genome", "0,2,0,0,0,0,0,0,0,0", "--json"]) == 0
    evaluation = json.loads(capsys.readouterr().out)
    assert evaluation["status"] == "ok" and evaluation["metrics"]["accuracy"] > 0.5


def test_run_on_a_plugin_module(
    plugin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(plugin.parent))
    argv = ["run", "--agent", "random", "--env", "wine_plugin:Wine-MLP", "--budget", "3"]
    assert main([*argv, "--out", str(tmp_path / "runs"), "--no-progress"]) == 0
    logs = list((tmp_path / "runs").glob("random__darwin-bench-Wine-MLP-v0__seed0.jsonl"))
    assert len(logs) == 1


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ("missing_plugin.py:Wine-MLP", "plug-in file 'missing_plugin.py' does not exist"),
        ("no_such_module_xyz:Wine-MLP", "neither a .py file nor an importable module"),
        ("{path}:Whine-MLP", "env must be one of"),
    ],
)
def test_bad_plugin_exits_2_with_one_line(
    plugin: Path, env: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["evaluate", "--env", env.format(path=plugin), "--genome", "0"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err


def test_console_script_runs_a_plugin(plugin: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "darwin_bench.cli",
            "run",
            "--agent",
            "random",
            "--env",
            f"{plugin}:Wine-MLP",
            "--budget",
            "2",
            "--epochs",
            "2",
            "--out",
            str(tmp_path),
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "2 evaluations" in proc.stdout
