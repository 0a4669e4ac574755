"""Fixtures of the leaderboard tests: a tiny live track and untouched submissions on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from leaderboard.submission import Submission, load_submission
from leaderboard.tracks import Track

#: A live track small enough for tests: 1 epoch per network, 4 evaluations per run.
TINY_LIVE = Track(
    name="tiny-live",
    env_id="darwin_bench/Digits-MLP-v0",
    kind="live",
    description="test track",
    env_kwargs={"epochs": 1, "measure_latency": False},
    budget=4,
    min_seeds=5,
    retrain={"sample": 1, "atol": 0.02, "rtol": 0.05},
)


#: rea with a population of 2 mutates from its third proposal on (with the default of 20 its
#: first 4 proposals are random samples: exactly random's runs).
REA_CONFIG = {"population_size": 2, "sample_size": 2}


def run_track(track: Track, agent: str, out: Path, seeds: int, config: dict | None = None) -> Path:
    """Run ``agent`` on ``track`` for seeds ``0..seeds-1``; the folder of its run logs."""
    from baselines.runner import run_agent

    kwargs = track.run_kwargs()
    budget = kwargs.pop("budget")
    for seed in range(seeds):
        run_agent(
            agent,
            track.env_id,
            budget=budget,
            seed=seed,
            out_dir=out,
            env_kwargs=kwargs,
            agent_config=config,
        )
    return out


@pytest.fixture(scope="session")
def tiny_live() -> Track:
    return TINY_LIVE


@pytest.fixture(scope="session")
def live_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Folders of run logs of ``random`` and ``rea`` on the tiny live track (5 seeds each)."""
    root = tmp_path_factory.mktemp("live-runs")
    return {
        "random": run_track(TINY_LIVE, "random", root / "random", 5),
        "rea": run_track(TINY_LIVE, "rea", root / "rea", 5, REA_CONFIG),
    }


@pytest.fixture(scope="session")
def live_submission(live_runs: dict[str, Path]) -> Submission:
    """The untouched submission of ``random`` on the tiny live track."""
    return load_submission([live_runs["random"]], track="tiny-live")


@pytest.fixture(scope="session")
def tiny_tab(tiny_tables: dict):
    """A tabular track over the tiny MLP table (4 networks, 3 epochs, 2 seeds), registered as a
    test env for the session: 6 evaluations per run, 10 seeds."""
    import gymnasium as gym
    from tiny_tables import tabular_kwargs

    from envs.registration import ENVS, EnvEntry, register_entry

    entry = EnvEntry(
        "darwin_bench/TinyBoard-MLP-Tab-v0",
        "proposal",
        tabular_kwargs("mlp", tiny_tables["mlp"]),
        "test env of the leaderboard tests",
        entry_point="envs.tabular:TabularEnv",
        vector_entry_point="envs.tabular:TabularPopulationEnv",
    )
    ENVS.append(entry)
    register_entry(entry)
    yield Track(
        name="tiny-tab",
        env_id=entry.id,
        kind="tabular",
        description="test track",
        budget=6,
        min_seeds=10,
        hypervolume={"cost": "flops", "score_ref": 0.0, "score_best": 1.0, "cost_ref": 5000.0},
    )
    ENVS.remove(entry)
    del gym.registry[entry.id]


@pytest.fixture(scope="session")
def tab_runs(tiny_tab: Track, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Folders of run logs of ``random`` and ``rea`` on the tiny tabular track (10 seeds)."""
    root = tmp_path_factory.mktemp("tab-runs")
    return {
        "random": run_track(tiny_tab, "random", root / "random", 10),
        "rea": run_track(tiny_tab, "rea", root / "rea", 10, REA_CONFIG),
    }


@pytest.fixture(scope="session")
def tab_submission(tab_runs: dict[str, Path]) -> Submission:
    """The untouched submission of ``random`` on the tiny tabular track."""
    return load_submission([tab_runs["random"]], track="tiny-tab")
