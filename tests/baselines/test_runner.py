"""Running agents: run logs, determinism, resume after a kill."""

from __future__ import annotations

import pytest

from baselines.runner import run_agent
from darwin_bench.runlog import read_runlog

ENV = "darwin_bench/Digits-MLP-v0"
FAST = {"epochs": 1, "measure_latency": False}


def test_same_seed_same_run(tmp_path) -> None:
    a = run_agent("random", ENV, budget=5, seed=4, out_dir=tmp_path / "a", env_kwargs=FAST)
    b = run_agent("random", ENV, budget=5, seed=4, out_dir=tmp_path / "b", env_kwargs=FAST)
    assert a.record.rewards() == b.record.rewards()
    assert [e.evaluation_id for e in a.record.evaluations] == [
        e.evaluation_id for e in b.record.evaluations
    ]
    c = run_agent("random", ENV, budget=5, seed=5, out_dir=tmp_path / "c", env_kwargs=FAST)
    assert c.record.rewards() != a.record.rewards()


def test_killed_run_resumes_to_the_same_end(tmp_path) -> None:
    full = run_agent("random", ENV, budget=6, seed=1, out_dir=tmp_path / "full", env_kwargs=FAST)
    killed = run_agent("random", ENV, budget=6, seed=1, out_dir=tmp_path / "k", env_kwargs=FAST)
    lines = killed.path.read_text().splitlines()
    killed.path.write_text("\n".join(lines[:4]) + "\n" + lines[4][:30])  # 3 lines + a torn one
    assert len(read_runlog(killed.path).evaluations) == 3

    seen: list[str] = []
    resumed = run_agent(
        "random",
        ENV,
        budget=6,
        seed=1,
        out_dir=tmp_path / "k",
        env_kwargs=FAST,
        on_evaluation=lambda e: seen.append(e.evaluation_id),
    )
    assert resumed.resumed_from == 3
    assert resumed.record.complete
    assert resumed.record.rewards() == full.record.rewards()
    assert [e.evaluation_id for e in resumed.record.evaluations] == [
        e.evaluation_id for e in full.record.evaluations
    ]


def test_complete_log_is_reused(tmp_path) -> None:
    first = run_agent("random", ENV, budget=3, seed=0, out_dir=tmp_path, env_kwargs=FAST)
    again = run_agent("random", ENV, budget=3, seed=0, out_dir=tmp_path, env_kwargs=FAST)
    assert again.seconds == 0.0 and again.record.rewards() == first.record.rewards()
    assert again.reused and not first.reused


def test_agent_that_raises_has_its_envs_closed(tmp_path, monkeypatch) -> None:
    from baselines import AGENTS
    from baselines.random_search import RandomSearch
    from envs.core import SearchCore

    closed: list[int] = []
    original = SearchCore.close
    monkeypatch.setattr(SearchCore, "close", lambda self: closed.append(1) or original(self))

    class Crashing(RandomSearch):
        def run(self, envs, seed):  # makes two envs, then fails mid-search
            envs.make().reset(seed=seed)
            envs.make_vec(2)
            raise RuntimeError("agent bug")

    monkeypatch.setitem(AGENTS, "random", Crashing)
    with pytest.raises(RuntimeError, match="agent bug"):
        run_agent("random", ENV, budget=3, seed=0, out_dir=tmp_path, env_kwargs=FAST)
    assert len(closed) == 3  # the probe env run_agent checks the kwargs with, and both


def test_agent_on_unsupported_env_form_names_supported_envs(tmp_path) -> None:
    with pytest.raises(ValueError, match="agent 'random' does not work on .*Builder.*supports: "):
        run_agent(
            "random", "darwin_bench/Digits-MLP-Builder-v0", budget=2, seed=0, out_dir=tmp_path
        )


def test_log_made_with_other_settings_is_refused_not_reused(tmp_path) -> None:
    run_agent("random", ENV, budget=3, seed=0, out_dir=tmp_path, env_kwargs=FAST)
    with pytest.raises(ValueError, match="was made with other settings"):
        run_agent(
            "random", ENV, budget=3, seed=0, out_dir=tmp_path, env_kwargs={**FAST, "epochs": 2}
        )
    with pytest.raises(ValueError, match="was made with other settings"):
        run_agent("random", ENV, budget=4, seed=0, out_dir=tmp_path, env_kwargs=FAST)


def test_synapse_env_kwargs_reach_the_env(tmp_path) -> None:
    with pytest.raises(ValueError, match="inherit must be one of"):
        run_agent(
            "evo-synthesis",
            "darwin_bench/Digits-Synapses-v0",
            budget=1,
            seed=0,
            out_dir=tmp_path,
            env_kwargs={"inherit": "cousin"},
        )
