"""The agent contract: built-in agents use only the typed helpers, never an env's internals."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from baselines import AGENTS, Agent, AgentConfig, EnvFactory
from envs.helpers import (
    BuilderHelpers,
    EnvHelpers,
    ProposalHelpers,
    SynapseHelpers,
    helpers,
)

BASELINES = Path(__file__).resolve().parents[2] / "baselines"
FAST = {"epochs": 1, "measure_latency": False}


def test_baselines_have_no_type_ignore_and_no_reach_into_core() -> None:
    """Crude but honest: the text of every module in baselines/ (mypy checks the rest)."""
    offenders = []
    for path in sorted(BASELINES.glob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if "type: ignore" in line or re.search(r"\.core\b", line):
                offenders.append(f"{path.name}:{number}: {line.strip()}")
    assert offenders == []


def test_helpers_are_typed_views_of_each_env_form() -> None:
    proposal = gym.make("darwin_bench/Digits-MLP-v0", budget=2, **FAST)
    builder = gym.make("darwin_bench/Digits-MLP-Builder-v0", budget=2, **FAST)
    population = gym.make_vec(
        "darwin_bench/Digits-MLP-v0", num_envs=2, vectorization_mode="vector_entry_point", **FAST
    )
    assert isinstance(helpers(proposal, "proposal"), ProposalHelpers)
    assert isinstance(helpers(builder, "builder"), BuilderHelpers)
    assert isinstance(helpers(population), EnvHelpers)
    assert not isinstance(helpers(proposal), SynapseHelpers)
    assert helpers(proposal).budget == 2 and helpers(proposal).budget_left == 2
    assert helpers(proposal, "proposal").fidelity == {"epochs": 1}
    for env in (proposal, builder, population):
        env.close()


def test_helpers_name_what_an_env_lacks() -> None:
    env = gym.make("darwin_bench/Digits-MLP-v0", budget=2, **FAST)
    with pytest.raises(ValueError, match="not a darwin_bench builder env: it lacks action_masks"):
        helpers(env, "builder")
    with pytest.raises(ValueError, match="form must be one of"):
        helpers(env, "tabular")  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="not a darwin_bench any env"):
        helpers(gym.make("CartPole-v1"))
    env.close()


@dataclass
class StepsConfig(AgentConfig):
    """Attributes:
    stride: how far apart the genes of consecutive proposals are.
    """

    stride: int = 1


class Strider(Agent[StepsConfig]):
    """A typed agent: ``self.config`` is a ``StepsConfig`` without a cast."""

    name = "strider"
    config_class = StepsConfig

    def run(self, envs: EnvFactory, seed: int) -> None:
        env = envs.make()
        space = helpers(env, "proposal").search_space
        env.reset(seed=seed)
        genome = space.sample(np.random.default_rng(seed))
        truncated = False
        while not truncated:
            _, _, _, truncated, _ = env.step(genome)
            genome = space.neighbours(genome)[self.config.stride]
        env.close()


def test_a_generic_agent_gets_its_own_config_class() -> None:
    agent = Strider()
    assert isinstance(agent.config, StepsConfig) and agent.config.stride == 1
    assert Strider(StepsConfig(stride=2)).config.stride == 2
    seen: list[str] = []
    envs = EnvFactory("darwin_bench/Digits-MLP-v0", {"budget": 3, **FAST}, [])
    envs.recorders.append(lambda e: seen.append(e.evaluation_id))
    agent.run(envs, seed=0)
    assert len(seen) == 3


def test_every_built_in_agent_declares_its_config_class() -> None:
    for name, cls in AGENTS.items():
        assert cls.name == name
        assert issubclass(cls.config_class, AgentConfig)
        assert isinstance(cls().config, cls.config_class)
