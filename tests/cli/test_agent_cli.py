"""``--agent path.py:Class`` and ``module:Class`` through ``run`` and ``compare``; plug-in envs
in ``compare``; one line and exit 2 for an agent that cannot be loaded."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import darwin_bench
from darwin_bench.cli import main
from envs.plugins import PLUGIN_IDS

AGENT = textwrap.dedent(
    """
    import numpy as np

    from baselines import Agent, EnvFactory
    from envs.helpers import helpers


    class FirstGenes(Agent):
        '''Proposes random genomes whose first gene is always its first choice.'''

        name = "first-genes"

        def run(self, envs: EnvFactory, seed: int) -> None:
            env = envs.make()
            space = helpers(env, "proposal").search_space
            rng = np.random.default_rng(seed)
            env.reset(seed=seed)
            truncated = False
            while not truncated:
                genome = space.sample(rng)
                genome[0] = 0
                _, _, _, truncated, _ = env.step(space.canonical(genome))
            env.close()
    """
)

PLUGIN = """
import darwin_bench
from sklearn.datasets import load_wine

X, y = load_wine(return_X_y=True)
darwin_bench.register(darwin_bench.tasks.from_arrays(X, y, name="wine"), space="mlp")
"""


@pytest.fixture
def files(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    agent, plugin = tmp_path / "first_genes.py", tmp_path / "wine_plugin.py"
    agent.write_text(AGENT)
    plugin.write_text(PLUGIN)
    before = set(PLUGIN_IDS)
    yield agent, plugin
    for env_id in set(PLUGIN_IDS) - before:
        darwin_bench.unregister(env_id)


def test_run_a_user_agent_from_a_file_and_a_module(
    files: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent, _ = files
    common = ["--env", "darwin_bench/Digits-MLP-v0", "--budget", "3", "--epochs", "1"]
    common += ["--env-kwargs", '{"measure_latency": false}', "--no-progress"]
    assert (
        main(["run", "--agent", f"{agent}:FirstGenes", *common, "--out", str(tmp_path / "a")]) == 0
    )
    (log,) = (tmp_path / "a").glob("first-genes__*.jsonl")
    header = json.loads(log.read_text().splitlines()[0])
    assert header["agent_source"]["kind"] == "file"
    assert all(json.loads(line)["genome"][0] == 0 for line in log.read_text().splitlines()[1:-1])
    monkeypatch.syspath_prepend(str(agent.parent))
    assert (
        main(["run", "--agent", "first_genes:FirstGenes", *common, "--out", str(tmp_path / "b")])
        == 0
    )
    (log,) = (tmp_path / "b").glob("first-genes__*.jsonl")
    assert json.loads(log.read_text().splitlines()[0])["agent_source"]["kind"] == "module"


def test_compare_a_user_agent_on_a_plugin_env(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    agent, plugin = files
    argv = ["compare", "--agents", f"random,{agent}:FirstGenes", "--env", f"{plugin}:Wine-MLP"]
    argv += ["--seeds", "2", "--budget", "3", "--epochs", "1", "--out", str(tmp_path)]
    argv += ["--env-kwargs", '{"measure_latency": false}', "--no-progress", "--json"]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["env_id"] == "darwin_bench/Wine-MLP-v0"
    assert [a["agent"] for a in data["agents"]] == ["random", "first-genes"]
    assert len(list(tmp_path.glob("first-genes__darwin-bench-Wine-MLP-v0__seed*.jsonl"))) == 2


@pytest.mark.parametrize(
    ("agent", "message"),
    [
        ("missing.py:X", "agent file 'missing.py' does not exist"),
        ("no_such_module_xyz:X", "agent module 'no_such_module_xyz' cannot be imported"),
        ("{agent}:Nope", "no class 'Nope' there; its agent classes: FirstGenes"),
        ("{agent}:np", "is not an Agent"),
    ],
)
@pytest.mark.parametrize("command", ["run", "compare"])
def test_an_agent_that_cannot_be_loaded_exits_2_with_one_line(
    command: str,
    agent: str,
    message: str,
    files: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    spec = agent.format(agent=files[0])
    argv = [command, "--agent", spec, "--env", "darwin_bench/Digits-MLP-v0", "--budget", "2"]
    code = main([*argv, "--out", str(tmp_path), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1
    assert not list(tmp_path.glob("*.jsonl"))
