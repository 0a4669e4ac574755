"""Test metrics never reach agents (issue 8): an agent that uses only the documented API.

The spy agent below reads everything a search agent may read (reset and step infos of the
proposal, builder, population and synapse envs, the evaluations its listeners receive, and the
env helpers) while the framework writes the run log in the same process. Nothing it sees may
carry a test metric; the run log, which reports do read, must carry them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pytest

import baselines
from baselines.base import Agent, EnvFactory
from baselines.runner import run_agent
from darwin_bench.evaluation import Evaluation


def carried_test_keys(obj: Any, path: str = "") -> list[str]:
    """Paths of every ``test_*`` key that carries something, searched recursively.

    ``test_metrics: {}`` (the emptied field of an :meth:`Evaluation.public` copy) carries
    nothing and is allowed.
    """
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        obj = dataclasses.asdict(obj)
    found: list[str] = []
    if isinstance(obj, Mapping):
        for key, value in obj.items():
            where = f"{path}[{key!r}]"
            if str(key).startswith("test_") and value not in ({}, None):
                found.append(where)
            found += carried_test_keys(value, where)
    elif isinstance(obj, (list, tuple)) or (isinstance(obj, np.ndarray) and obj.dtype == object):
        # (object arrays: a population env's vector infos hold e.g. each slot's evaluation)
        for i, value in enumerate(obj):
            found += carried_test_keys(value, f"{path}[{i}]")
    return found


class Spy(Agent):
    """Steps through the documented API only and keeps everything it is shown."""

    name: ClassVar[str] = "spy"
    forms: ClassVar[tuple[str, ...]] = ("proposal", "builder", "synapses")
    seen: ClassVar[list[Any]] = []

    def run(self, envs: EnvFactory, seed: int) -> None:
        seen = type(self).seen
        env = envs.make()
        unwrapped: Any = env.unwrapped
        unwrapped.add_listener(seen.append)
        seen.append(env.reset(seed=seed)[1])
        rng = np.random.default_rng(seed)
        if hasattr(unwrapped, "ancestor_metrics"):
            seen.append(unwrapped.ancestor_metrics())
            seen.append(unwrapped.cost_target)
        while unwrapped.budget_left > 0:
            if hasattr(unwrapped, "action_masks"):
                valid = np.flatnonzero(unwrapped.action_masks())
                _, _, done, _, info = env.step(int(rng.choice(valid)))
                seen.append(info)
                if done:
                    seen.append(env.reset()[1])
            else:
                seen.append(env.step(unwrapped.search_space.sample(rng))[4])
        env.close()


class PopulationSpy(Spy):
    """The same through a population (vector) env."""

    name: ClassVar[str] = "population-spy"
    forms: ClassVar[tuple[str, ...]] = ("proposal",)

    def run(self, envs: EnvFactory, seed: int) -> None:
        seen = type(self).seen
        env = envs.make_vec(2)
        unwrapped: Any = env.unwrapped
        unwrapped.add_listener(seen.append)
        seen.append(env.reset(seed=seed)[1])
        rng = np.random.default_rng(seed)
        space = unwrapped.search_space
        while unwrapped.budget_left > 0:
            seen.append(env.step(np.stack([space.sample(rng) for _ in range(2)]))[4])
        env.close()


FAST = {"epochs": 1, "measure_latency": False}


@pytest.mark.parametrize(
    "agent, env_id, kwargs",
    [
        (Spy, "darwin_bench/Digits-MLP-v0", FAST),
        (Spy, "darwin_bench/Digits-MLP-Builder-v0", FAST),
        (PopulationSpy, "darwin_bench/Digits-MLP-v0", FAST),
        (Spy, "darwin_bench/Digits-Synapses-v0", {**FAST, "task_kwargs": {"ancestor_epochs": 2}}),
        (Spy, "darwin_bench/Saliency-FCN-v0", {**FAST, "task_kwargs": {"scenes": 60}}),
    ],
)
def test_an_agent_never_sees_a_test_metric(
    agent: type[Spy], env_id: str, kwargs: dict, tmp_path, monkeypatch
) -> None:
    monkeypatch.setitem(baselines.AGENTS, agent.name, agent)
    monkeypatch.setattr(agent, "seen", [])
    run = run_agent(agent.name, env_id, budget=4, seed=0, out_dir=tmp_path, env_kwargs=kwargs)

    seen = agent.seen
    assert sum(isinstance(x, Evaluation) for x in seen) == 4  # the listener saw every one
    assert carried_test_keys(seen) == []
    # The run log, written in the same process, keeps them for reports.
    ok = [e for e in run.record.evaluations if e.ok]
    assert ok and all(e.test_metrics for e in ok)
    assert all(carried_test_keys(e) for e in ok)  # the detector finds them where they are
    assert not any(k.startswith("test_") for e in ok for k in e.metrics)
    incumbent = (run.record.footer or {})["incumbent"]
    assert incumbent["test_metrics"] and not carried_test_keys(incumbent["metrics"])


def test_a_task_cannot_put_test_metrics_where_the_search_reads() -> None:
    from torch import nn

    from darwin_bench.tasks import TaskResult

    with pytest.raises(ValueError, match=r"metrics \['test_accuracy'\] are test metrics"):
        TaskResult({"accuracy": 0.9, "test_accuracy": 0.8}, nn.Linear(1, 1), 0.0)
    with pytest.raises(ValueError, match="test_metrics keys must start with 'test_'"):
        TaskResult({"accuracy": 0.9}, nn.Linear(1, 1), 0.0, test_metrics={"accuracy": 0.8})
