"""docs/agents.md, "Write your own agent": the class form runs through ``run`` and ``compare``
as a user's file, the ask/tell form (an Optuna loop) runs as written, and both agent files run
through the real ``darwin-bench`` console script from the user's folder."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from darwin_bench.cli import main

DOC = Path(__file__).resolve().parents[2] / "docs" / "agents.md"
SECTION = DOC.read_text(encoding="utf-8").split("## Write your own agent", 1)[1]
BLOCKS = re.findall(r"```python\n(.*?)```", SECTION, flags=re.S)
CLASS_FORM = next(b for b in BLOCKS if "class Greedy(Agent[GreedyConfig])" in b)
ASK_TELL_FORM = next(b for b in BLOCKS if "AskTell(env" in b and "class " not in b)
QMC_AGENT = next(b for b in BLOCKS if "class QMC(Agent)" in b)
SCRIPT = shutil.which("darwin-bench") or str(Path(sys.executable).parent / "darwin-bench")
FAST = ["--epochs", "1", "--env-kwargs", '{"measure_latency": false}', "--no-progress"]


def test_the_class_form_runs_from_a_users_file(tmp_path: Path, capsys) -> None:
    path = tmp_path / "my_agent.py"
    path.write_text(CLASS_FORM)
    env = ["--env", "darwin_bench/Digits-MLP-v0", "--budget", "4", *FAST]
    config = ["--agent-config", '{"samples": 2}']
    assert main(["run", "--agent", f"{path}:Greedy", *env, *config, "--out", str(tmp_path)]) == 0
    (log,) = tmp_path.glob("greedy__*.jsonl")
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert lines[0]["agent_config"] == {"samples": 2} and len(lines) == 4 + 2
    capsys.readouterr()
    argv = ["compare", "--agents", f"random,{path}", *env, "--seeds", "2", "--json"]
    assert main([*argv, "--out", str(tmp_path / "compare")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [a["agent"] for a in data["agents"]] == ["random", "greedy"]
    with pytest.raises(ValueError, match="samples must be >= 1"):
        from baselines.loading import resolve_agent

        resolve_agent(f"{path}:Greedy").make({"samples": 0})


def test_the_ask_tell_form_runs_as_written(capsys) -> None:
    namespace: dict = {"__name__": "docs_example"}
    exec(compile(ASK_TELL_FORM, "docs/agents.md[ask/tell]", "exec"), namespace)
    out = capsys.readouterr().out
    assert out.startswith("best reward ")
    adapter = namespace["adapter"]
    assert adapter.done and len(namespace["study"].trials) >= 12


def test_the_users_files_run_through_the_console_script(tmp_path: Path) -> None:
    """As a user works: two files in a folder, ``darwin-bench`` run from that folder."""
    (tmp_path / "my_agent.py").write_text(CLASS_FORM)
    (tmp_path / "my_qmc.py").write_text(QMC_AGENT)

    def darwin_bench(*args: str) -> str:
        proc = subprocess.run(
            [SCRIPT, *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=600,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    env = ["--env", "darwin_bench/Digits-MLP-v0", "--budget", "4", *FAST]
    darwin_bench("run", "--agent", "my_agent:Greedy", *env, "--out", "runs")  # module:Class
    (log,) = (tmp_path / "runs").glob("greedy__*.jsonl")
    header = json.loads(log.read_text().splitlines()[0])
    assert header["agent_source"]["kind"] == "module"
    assert header["agent_source"]["path"] == str(tmp_path / "my_agent.py")
    agents = "random,my_agent.py:Greedy,my_qmc.py:QMC"
    out = darwin_bench("compare", "--agents", agents, *env, "--seeds", "2", "--json")
    data = json.loads(out)
    assert [a["agent"] for a in data["agents"]] == ["random", "greedy", "qmc"]
    assert len(list((tmp_path / "runs" / "compare").glob("qmc__*.jsonl"))) == 2
    assert all(a["final_best_reward"]["iqm"]["n"] == 2 for a in data["agents"])
