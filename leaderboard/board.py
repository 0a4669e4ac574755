"""The leaderboard's operations: submit (verify, score, store), standings, references.

The CLI and the web server both go through these functions, so a submission is treated the
same way whichever door it comes in by.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from leaderboard.ranking import Standing, rank, score_run
from leaderboard.report import Report
from leaderboard.store import Store
from leaderboard.submission import Submission, load_submission
from leaderboard.tracks import Track, get_track
from leaderboard.verify import Verification, verify

#: The committed reference entries: ``<track>/<agent>/submission.json`` (+ run logs) and the
#: ``report.json`` of their full verification when they were produced.
REFERENCES = Path(__file__).resolve().parent / "references"


@dataclass
class Outcome:
    """A submission's fate: its verification and, when accepted, its entry id."""

    verification: Verification
    entry_id: int | None = None

    @property
    def report(self) -> Report:
        """The verification report."""
        return self.verification.report


def submit(
    submission: Submission,
    store: Store,
    *,
    track: Track | None = None,
    retrain: bool = True,
    replay: bool = True,
    reference: bool = False,
    sample_seed: int | None = None,
    amend: Callable[[Report], None] | None = None,
) -> Outcome:
    """Verify ``submission`` and, when it passes, score and store it (``amend`` may add to the
    report first).

    Raises:
        ValueError: for an unknown track.
    """
    track = track or get_track(submission.track)
    verification = verify(
        submission,
        track,
        retrain=retrain,
        replay=replay,
        sample_seed=sample_seed,
        known=store.find,
    )
    if not verification.accepted:
        return Outcome(verification)
    assert verification.content_hash is not None
    if amend is not None:
        amend(verification.report)
    scores = [(name, score_run(record, track)) for name, record in verification.runs]
    entry = store.add(
        submission, verification.report, verification.content_hash, scores, reference=reference
    )
    return Outcome(verification, entry)


def standings(store: Store, track: Track) -> list[Standing]:
    """The ranked entries of ``track``, best first."""
    return rank(store.standings_input(track.name), multi_objective=track.multi_objective)


def reference_folders(track: str | None = None) -> list[Path]:
    """The committed reference entries (of one track, or all)."""
    if not REFERENCES.is_dir():
        return []
    pattern = f"{track}/*/submission.json" if track else "*/*/submission.json"
    return sorted(p.parent for p in REFERENCES.glob(pattern))


def load_references(store: Store, track: str | None = None) -> list[Outcome]:
    """Verify and store the committed reference entries (those not on the board yet).

    Everything is checked again except live retraining, which the reference command did when
    it produced them: its record is taken from their committed ``report.json``.
    """
    outcomes = []
    for folder in reference_folders(track):
        submission = load_submission([folder])
        committed = Report.from_dict(json.loads((folder / "report.json").read_text("utf-8")))

        def amend(report: Report, committed: Report = committed) -> None:
            _merge_retrain(report, committed)

        outcomes.append(submit(submission, store, retrain=False, reference=True, amend=amend))
    return outcomes


def _merge_retrain(report: Report, committed: Report) -> None:
    """Replace a skipped retrain step by the committed report's (a reference entry's)."""
    done = [c for c in committed.checks if c.name == "retrain" and c.status == "passed"]
    if not done:
        return
    for i, check in enumerate(report.checks):
        if check.name == "retrain" and check.status == "skipped":
            report.checks[i] = replace(
                done[0], detail=f"when the reference entry was produced: {done[0].detail}"
            )
    for key in ("retrained", "retrained_exact", "max_deviation", "retrain_seed"):
        if key in committed.facts:
            report.facts[key] = committed.facts[key]
