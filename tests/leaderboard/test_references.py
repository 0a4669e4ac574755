"""The committed reference entries: one per built-in agent and track, each passing verification.

When the problem a reference was made on changes (trainer or cost settings, a table, the data),
these tests fail: regenerate the entries with ``darwin-bench leaderboard references``
(docs/leaderboard.md).
"""

from __future__ import annotations

import json

import pytest

from leaderboard.board import load_references, reference_folders, standings
from leaderboard.references import reference_agents
from leaderboard.store import Store
from leaderboard.submission import load_submission
from leaderboard.tracks import tracks
from leaderboard.verify import verify


@pytest.mark.parametrize("track", tracks(), ids=lambda t: t.name)
def test_every_builtin_agent_has_a_reference_entry(track) -> None:
    have = sorted(folder.name for folder in reference_folders(track.name))
    assert have == sorted(reference_agents(track))


@pytest.mark.parametrize("track", tracks(), ids=lambda t: t.name)
def test_untouched_reference_entries_pass_verification(track, tmp_path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'board.sqlite'}")
    outcomes = load_references(store, track.name)
    assert outcomes, f"no reference entry on {track.name}"
    for outcome in outcomes:
        assert outcome.entry_id is not None, outcome.report.summary()
        checks = {c.name: c.status for c in outcome.report.checks}
        assert checks["evaluations"] == "passed", outcome.report.summary()
        # Re-executing checks are taken from the committed report.json of the production.
        assert checks["replay"] == "passed", outcome.report.summary()
        if track.kind == "live":
            assert checks["retrain"] == "passed", outcome.report.summary()
    ranked = standings(store, track)
    assert len(ranked) == len(outcomes)
    store.close()


def test_committed_reports_record_the_retraining() -> None:
    for track in tracks():
        if track.kind != "live":
            continue
        for folder in reference_folders(track.name):
            report = json.loads((folder / "report.json").read_text("utf-8"))
            assert report["facts"]["retrained"] >= 1


@pytest.mark.slow
@pytest.mark.parametrize("track", tracks(), ids=lambda t: t.name)
def test_reference_entries_replay(track) -> None:
    """The replay audit of every reference entry, run again (minutes: tpe on 10 seeds)."""
    for folder in reference_folders(track.name):
        verification = verify(load_submission([folder]), track, retrain=False)
        checks = {c.name: c.status for c in verification.report.checks}
        assert verification.accepted and checks["replay"] == "passed", folder.name
