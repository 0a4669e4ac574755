"""The real ``darwin-bench`` console script in a subprocess, as a user runs it: bad input is one
line and exit code 2; output piped to a file stays whole; progress goes to stderr."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from baselines import make_agent

SCRIPT = shutil.which("darwin-bench") or str(Path(sys.executable).parent / "darwin-bench")
MLP = "darwin_bench/Digits-MLP-v0"
FAST = ["--epochs", "1", "--env-kwargs", '{"measure_latency": false}']


def darwin_bench(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the console script; stdout and stderr are pipes (not terminals)."""
    env = {**os.environ, "COLUMNS": "80"}  # what a narrow terminal would say; pipes ignore it
    return subprocess.run(
        [SCRIPT, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=900
    )


def one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


def test_the_console_script_is_installed() -> None:
    assert Path(SCRIPT).exists(), "pip install -e . installs the darwin-bench script"


@pytest.mark.parametrize(
    "env_kwargs, fragments",
    [
        (
            {"space_kwargs": {"widths": [1]}},
            ["space_kwargs", "unknown key(s) ['widths']", "allowed: max_layers, min_layers"],
        ),
        ({"space_kwargs": {"max_layers": "3"}}, ["space_kwargs", "'max_layers' must be int"]),
        ({"space_kwargs": {"max_layers": 0}}, ["space_kwargs", "min_layers and max_layers"]),
        ({"task_kwargs": {"epochs": "many"}}, ["task_kwargs", "'epochs' must be int"]),
        ({"costs": "flops"}, ["'costs' must be"]),
    ],
)
def test_bad_env_kwargs_are_one_line(env_kwargs: dict, fragments: list[str]) -> None:
    line = one_error_line(
        darwin_bench(
            "evaluate", "--env", MLP, "--genome", "1", "--env-kwargs", json.dumps(env_kwargs)
        )
    )
    assert line.startswith("darwin-bench evaluate: error: ")
    for fragment in fragments:
        assert fragment in line


def test_out_that_names_a_file_is_one_line(tmp_path) -> None:
    (tmp_path / "afile").write_text("x")
    for out in ("afile", "afile/sub"):
        line = one_error_line(
            darwin_bench(
                "run",
                "--agent",
                "random",
                "--env",
                MLP,
                "--budget",
                "1",
                "--out",
                out,
                *FAST,
                cwd=tmp_path,
            )
        )
        assert "--out must be a folder; " in line and "afile is a file" in line


def test_agent_config_error_shows_a_valid_key() -> None:
    line = one_error_line(
        darwin_bench(
            "run", "--agent", "ga", "--env", MLP, "--budget", "1", "--agent-config", '{"pop": 4}'
        )
    )
    assert "--agent-config: " in line and "unknown" in line
    example = line.split("(e.g. '")[1].rsplit("')", 1)[0]
    make_agent("ga", json.loads(example))  # the example the error shows is valid


def test_usage_errors_are_one_line() -> None:
    line = one_error_line(darwin_bench("run", "--agent", "random", "--env", MLP, "--budget", "x"))
    assert (
        "argument --budget: must be a number (e.g. 200 evaluations, 2e12 train_flops); got 'x'"
        in line
    )
    line = one_error_line(darwin_bench("run", "--seed", "-1"))
    assert "darwin-bench run: error:" in line


def test_devices_piped_keeps_every_name_whole() -> None:
    proc = darwin_bench("devices")
    assert proc.returncode == 0, proc.stderr
    for name in ("raspberry-pi-4", "datacenter-gpu", "jetson-nano", "phone-cpu", "edge-tpu"):
        assert name in proc.stdout
    assert "…" not in proc.stdout


def test_list_piped_keeps_every_env_id_whole_and_a_closed_pipe_is_quiet() -> None:
    proc = darwin_bench("list")
    assert proc.returncode == 0 and "…" not in proc.stdout
    assert "darwin_bench/CharLM-RNN-Builder-v0" in proc.stdout
    head = subprocess.run(
        f"'{SCRIPT}' list | head -n 1", shell=True, capture_output=True, text=True, timeout=300
    )
    assert "Traceback" not in head.stderr and "BrokenPipe" not in head.stderr


def test_run_and_compare_report_progress_on_stderr_and_announce_reuse(tmp_path) -> None:
    args = ["--agent", "random", "--env", MLP, "--budget", "2", "--out", str(tmp_path), *FAST]
    first = darwin_bench("run", *args)
    assert first.returncode == 0, first.stderr
    assert "Best networks" in first.stdout and "random on darwin_bench" in first.stderr
    assert "random on darwin_bench" not in first.stdout  # the progress bar is on stderr
    again = darwin_bench("run", *args)
    assert again.returncode == 0
    assert "reused the complete run log" in again.stderr

    out = tmp_path / "cmp"
    compare = ["compare", "--agents", "random", "--env", MLP, "--seeds", "1", "--budget", "2",
               "--out", str(out), *FAST]  # fmt: skip
    proc = darwin_bench(*compare)
    assert proc.returncode == 0, proc.stderr
    assert "1 agents x 1 seeds" in proc.stderr and "1 agents x 1 seeds" not in proc.stdout
    assert "incumbent" in proc.stdout  # the table's column, whole
    proc = darwin_bench(*compare)
    assert "reused the complete run log" in proc.stderr
    proc = darwin_bench(*compare, "--json")
    json.loads(proc.stdout)  # --json keeps stdout pure JSON
