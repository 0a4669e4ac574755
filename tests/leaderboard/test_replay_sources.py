"""The replay audit of a user's agent: from the source file the submission carries."""

from __future__ import annotations

from pathlib import Path

import pytest
from board_helpers import check, first
from conftest import run_track

from leaderboard.submission import load_submission

AGENT = """
from __future__ import annotations

from dataclasses import dataclass

import os

import numpy as np

from baselines import Agent, AgentConfig, EnvFactory
from envs.helpers import helpers


@dataclass
class HillConfig(AgentConfig):
    samples: int = 2


class Hill(Agent[HillConfig]):
    name = "hill"
    config_class = HillConfig

    def run(self, envs: EnvFactory, seed: int) -> None:
        env = envs.make()
        space = helpers(env, "proposal").search_space
        rng = np.random.default_rng(SEED)
        env.reset(seed=seed)
        best, best_reward, step, truncated = space.sample(rng), float("-inf"), 0, False
        while not truncated:
            genome = space.sample(rng) if step < self.config.samples else space.mutate(best, rng)
            _, reward, _, truncated, _ = env.step(genome)
            if reward > best_reward:
                best, best_reward = genome, float(reward)
            step += 1
        env.close()
"""


def _agent_runs(root: Path, track, seed_expression: str) -> Path:
    source = root / "hill.py"
    source.write_text(AGENT.replace("SEED", seed_expression))
    run_track(track, f"{source}:Hill", root / "runs", 5)
    return source


@pytest.fixture(scope="module")
def hill(tmp_path_factory, tiny_live) -> Path:
    """A deterministic user agent (its randomness from the run's seed) and its runs."""
    return _agent_runs(tmp_path_factory.mktemp("hill"), tiny_live, "seed")


def test_a_user_agent_replays_from_its_source(hill, tiny_live) -> None:
    submission = load_submission([hill.parent / "runs"], track="tiny-live", source=hill)
    assert submission.agent.name == "hill" and submission.source is not None
    verification = check(tiny_live, submission)
    assert verification.accepted, verification.report.summary()
    (replay,) = [c for c in verification.report.checks if c.name == "replay"]
    assert replay.status == "passed" and "hill from source hill.py" in replay.detail


def test_without_its_source_the_replay_is_skipped_and_said(hill, tiny_live) -> None:
    verification = check(tiny_live, load_submission([hill.parent / "runs"], track="tiny-live"))
    assert verification.accepted
    (replay,) = [c for c in verification.report.checks if c.name == "replay"]
    assert replay.status == "skipped" and "no source" in replay.detail


def test_a_source_other_than_the_runs_is_refused(hill, tiny_live, tmp_path) -> None:
    edited = tmp_path / "hill.py"
    edited.write_text(hill.read_text() + "\n# changed\n")
    submission = load_submission([hill.parent / "runs"], track="tiny-live", source=edited)
    rejection = first(check(tiny_live, submission))
    assert (rejection.check, rejection.line, rejection.field) == ("replay", 1, "agent_source")
    assert "not the code the runs were made with" in rejection.message


def test_an_agent_that_does_not_replay(tmp_path, tiny_live, monkeypatch) -> None:
    """Randomness not from the run's seed alone: the same code proposes other networks again.

    The agent's RNG also reads an environment variable that differs between the runs and the
    replay (deterministic, unlike an unseeded RNG whose first draw may repeat by chance).
    """
    monkeypatch.setenv("HILL_SHIFT", "0")
    source = _agent_runs(tmp_path, tiny_live, "seed + int(os.environ['HILL_SHIFT'])")
    monkeypatch.setenv("HILL_SHIFT", "1000")
    submission = load_submission([tmp_path / "runs"], track="tiny-live", source=source)
    rejection = first(check(tiny_live, submission))
    assert (rejection.check, rejection.line, rejection.field) == ("replay", 2, "genome")
