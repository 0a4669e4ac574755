"""The PPO controller: every builder env, stops exactly at the budget, deterministic, forms."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest

from baselines import AGENTS, make_agent
from baselines.ppo import PPOController
from baselines.runner import run_agent
from darwin_bench.spaces import make_space
from darwin_bench.tasks.control import ControlTask
from envs.registration import ENVS

ENV = "darwin_bench/Digits-MLP-Builder-v0"
FAST = {"epochs": 1, "measure_latency": False}
BUILDER = [pytest.param(e, id=e.id) for e in ENVS if e.form in PPOController.forms]
SMALL = {"n_steps": 16, "batch_size": 8, "n_epochs": 2, "net_arch": [16]}


def test_registered_for_builder_envs_only() -> None:
    assert AGENTS["ppo"] is PPOController
    assert PPOController.forms == ("builder",)
    assert BUILDER, "no builder env is registered"


@pytest.mark.parametrize("entry", BUILDER)
def test_runs_on_every_builder_env(entry, tmp_path: Path) -> None:
    result = run_agent(
        "ppo",
        entry.id,
        budget=3,
        seed=0,
        out_dir=tmp_path,
        env_kwargs=entry.test_kwargs,
        agent_config=SMALL,
    )
    assert result.record.complete and len(result.record.evaluations) == 3


@pytest.mark.parametrize("use_masks", [True, False])
def test_budget_spent_exactly_across_several_rollouts(use_masks: bool, tmp_path: Path) -> None:
    """10 genes per network, 16 steps per rollout: 7 networks end mid-rollout, and PPO updates
    in between; the builder env would raise if asked for an 8th evaluation."""
    config = {**SMALL, "use_masks": use_masks}
    runs = [
        run_agent(
            "ppo",
            ENV,
            budget=7,
            seed=4,
            out_dir=tmp_path / str(i),
            env_kwargs=FAST,
            agent_config=config,
        ).record
        for i in range(2)
    ]
    assert all(r.complete and len(r.evaluations) == 7 for r in runs)
    assert [e.genome for e in runs[0].evaluations] == [e.genome for e in runs[1].evaluations]
    assert [e.reward for e in runs[0].evaluations] == [e.reward for e in runs[1].evaluations]


def test_on_a_proposal_env_fails_naming_the_supported_envs(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="supports: .*Builder") as info:
        run_agent("ppo", "darwin_bench/Digits-MLP-v0", budget=2, seed=0, out_dir=tmp_path)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("config", "field"),
    [({"n_steps": 1}, "n_steps"), ({"gamma": 0.0}, "gamma"), ({"net_arch": [0]}, "net_arch")],
)
def test_bad_config_names_the_field(config: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        make_agent("ppo", config)


def test_leaves_no_sb3_log_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SB3's default logger makes ``$TMPDIR/SB3-<date>`` at every ``learn()``; the controller
    and the PPO-trained control tasks give their models a logger that writes nothing."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.delenv("SB3_LOGDIR", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    out = tmp_path / "run"
    run_agent("ppo", ENV, budget=2, seed=0, out_dir=out, env_kwargs=FAST, agent_config=SMALL)
    task = ControlTask("CartPole-v1")
    space = make_space("mlp", task.input_shape, task.num_outputs)
    task.fit(
        space.decode(space.sample(np.random.default_rng(0))), seed=0, fidelity={"timesteps": 128}
    )
    assert list(scratch.glob("SB3-*")) == []  # (torch may cache its own files there)
