"""User agents: path.py:Class and module:Class through run_agent and compare, with provenance."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from baselines.compare import compare
from baselines.loading import resolve_agent, resolve_logged_agent
from baselines.runner import run_agent
from darwin_bench.hashing import file_sha256

ENV = "darwin_bench/Digits-MLP-v0"
FAST = {"epochs": 1, "measure_latency": False}

AGENT = textwrap.dedent(
    '''
    from dataclasses import dataclass

    import numpy as np

    from baselines import Agent, AgentConfig, EnvFactory
    from envs.helpers import helpers


    @dataclass
    class GreedyConfig(AgentConfig):
        """Attributes:
        restarts: random genomes before hill climbing starts.
        """

        restarts: int = 2


    class Greedy(Agent[GreedyConfig]):
        """Sample ``restarts`` genomes, then keep mutating the best one."""

        name = "greedy"
        config_class = GreedyConfig

        def run(self, envs: EnvFactory, seed: int) -> None:
            env = envs.make()
            space = helpers(env, "proposal").search_space
            rng = np.random.default_rng(seed)
            env.reset(seed=seed)
            best, best_reward, truncated, step = None, float("-inf"), False, 0
            while not truncated:
                if best is None or step < self.config.restarts:
                    genome = space.sample(rng)
                else:
                    genome = space.mutate(best, rng)
                _, reward, _, truncated, _ = env.step(genome)
                if reward > best_reward:
                    best, best_reward = genome, float(reward)
                step += 1
            env.close()


    class NotAnAgent:
        pass
    '''
)


@pytest.fixture
def agent_file(tmp_path: Path) -> Path:
    path = tmp_path / "my_agent.py"
    path.write_text(AGENT)
    return path


def test_a_file_agent_runs_and_its_source_is_recorded(agent_file: Path, tmp_path: Path) -> None:
    spec = f"{agent_file}:Greedy"
    result = run_agent(
        spec,
        ENV,
        budget=4,
        seed=0,
        out_dir=tmp_path / "runs",
        env_kwargs=FAST,
        agent_config={"restarts": 3},
    )
    header = result.record.header
    assert result.path.name.startswith("greedy__") and len(result.record.evaluations) == 4
    assert header["agent"] == "greedy" and header["agent_config"] == {"restarts": 3}
    source = header["agent_source"]
    assert source["kind"] == "file" and source["class"] == "Greedy"
    assert source["path"] == str(agent_file.resolve())
    assert source["sha256"] == file_sha256(agent_file)
    assert resolve_logged_agent(header).cls.__name__ == "Greedy"
    # The same file, edited: the old log no longer describes this agent.
    agent_file.write_text(AGENT.replace("restarts: int = 2", "restarts: int = 5"))
    with pytest.raises(ValueError, match="changed since the run"):
        resolve_logged_agent(header)
    with pytest.raises(ValueError, match="another version of agent"):
        run_agent(
            spec,
            ENV,
            budget=4,
            seed=0,
            out_dir=tmp_path / "runs",
            env_kwargs=FAST,
            agent_config={"restarts": 3},
        )


def test_a_module_agent_and_a_file_defining_one_agent(agent_file: Path, tmp_path: Path) -> None:
    sys.path.insert(0, str(agent_file.parent))
    try:
        spec = resolve_agent("my_agent:Greedy")
        assert spec.source["kind"] == "module" and spec.source["module"] == "my_agent"
        assert spec.name == "greedy"
    finally:
        sys.path.remove(str(agent_file.parent))
        sys.modules.pop("my_agent", None)
    assert resolve_agent(str(agent_file)).cls.__name__ == "Greedy"  # the only agent class
    builtin = resolve_agent("rea")
    assert builtin.source["kind"] == "builtin" and builtin.source["module"] == "baselines.rea"


def test_compare_takes_a_user_agent_beside_built_in_ones(agent_file: Path, tmp_path: Path) -> None:
    spec = f"{agent_file}:Greedy"
    comparison = compare(
        ["random", spec], ENV, seeds=2, budget=3, out_dir=tmp_path, env_kwargs=FAST
    )
    assert [r.agent for r in comparison.results] == ["random", "greedy"]
    assert comparison.improvement[0].x == "random" and comparison.improvement[0].y == "greedy"
    assert len(list(tmp_path.glob("greedy__*.jsonl"))) == 2


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("missing.py:Greedy", "agent file 'missing.py' does not exist"),
        ("no_such_module_xyz:Greedy", "agent module 'no_such_module_xyz' cannot be imported"),
        ("{file}:Nope", "no class 'Nope' there; its agent classes: Greedy"),
        ("{file}:NotAnAgent", "is not an Agent"),
        ("baselines.base:Agent", "is abstract: it must define run"),
        ("nope", "agent must be one of"),
    ],
)
def test_bad_agents_are_named(spec: str, message: str, agent_file: Path) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        resolve_agent(spec.format(file=agent_file))


def test_a_file_that_fails_to_import_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.py"
    path.write_text("import numpy\n\nraise RuntimeError('boom')\n")
    with pytest.raises(
        ValueError, match=r"failed to import: RuntimeError: boom \(broken.py, line 3\)"
    ):
        resolve_agent(f"{path}:X")
