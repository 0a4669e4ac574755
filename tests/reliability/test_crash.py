"""Crash safety, measured: real ``darwin-bench run`` processes SIGKILLed at random points and
resumed end exactly where an uninterrupted run ends (``darwin-bench reliability crash``)."""

from __future__ import annotations

import json

import pytest

from darwin_bench.cli import main
from darwin_bench.reliability.crash import TARGETS, Target, crash_test


def test_killed_random_runs_resume_to_the_uninterrupted_log(tmp_path) -> None:
    target = Target("random", "darwin_bench/Digits-MLP-v0", 4)
    report = crash_test(2, tmp_path, seed=1, targets=(target,))
    assert report["kills"] >= 2 and report["resumes"] >= 2
    assert report["all_equal"] and report["agents"]["random"]["equal"] >= 1


@pytest.mark.slow
def test_sixty_kills_over_every_agent(tmp_path, capsys) -> None:
    """The full harness: >= 60 SIGKILLs over random, ga, sh, evo-synthesis and ppo."""
    assert main(["reliability", "crash", "--kills", "60", "--out", str(tmp_path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["kills"] >= 60 and report["all_equal"]
    assert set(report["agents"]) == {t.agent for t in TARGETS}
    assert all(a["kills"] >= 12 for a in report["agents"].values())
