"""The leaderboard's operations: submit (verify, score, store), standings, references.

The CLI and the web server both go through these functions, so a submission is treated the
same way whichever door it comes in by.
"""

from __future__ import annotations

import json
import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from darwin_bench.evaluation import Evaluation
from darwin_bench.validation import check_positive_int
from leaderboard.ranking import Standing, rank, score_run
from leaderboard.report import Report
from leaderboard.store import Store
from leaderboard.submission import Submission, load_submission, write_manifest
from leaderboard.tracks import Track, get_track, tracks
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
    run_sources: bool = True,
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
        run_sources=run_sources,
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


def run_on_track(
    track: Track,
    agent: str,
    out: str | Path,
    *,
    seeds: int | None = None,
    agent_config: dict[str, Any] | None = None,
    name: str | None = None,
    version: str | None = None,
    on_evaluation: Callable[[Evaluation], None] | None = None,
) -> Path:
    """Run ``agent`` on ``track`` for seeds ``0..seeds-1`` (default: the track's minimum)
    into ``out`` and write the submission's manifest there; returns the manifest's path.

    Complete run logs already in ``out`` are reused, a killed run resumes (as
    ``darwin-bench run``). A user's agent file is copied next to the logs as the submission's
    source, so that the replay audit can run it.

    Raises:
        ValueError: for bad input (agent, config, seeds), as ``run_agent``.
    """
    from baselines.loading import resolve_agent
    from baselines.runner import run_agent

    count = track.min_seeds if seeds is None else check_positive_int("seeds", seeds)
    kwargs = track.run_kwargs()
    budget = kwargs.pop("budget")
    out = Path(out)
    paths = []
    for seed in range(count):
        result = run_agent(
            agent,
            track.env_id,
            budget=budget,
            seed=seed,
            out_dir=out,
            env_kwargs=kwargs,
            agent_config=agent_config,
            on_evaluation=on_evaluation,
        )
        paths.append(result.path)
    spec = resolve_agent(agent)
    source = None
    if spec.source.get("kind") == "file" and spec.source.get("path"):
        original = Path(spec.source["path"])
        if original.resolve() != (out / original.name).resolve():
            shutil.copyfile(original, out / original.name)
        source = original.name
    submission = load_submission(paths, track=track.name, name=name, version=version)
    return write_manifest(out, track.name, submission.agent, [p.name for p in paths], source)


def standings(store: Store, track: Track) -> list[Standing]:
    """The ranked entries of ``track``, best first."""
    return rank(store.standings_input(track.name), multi_objective=track.multi_objective)


def open_board(url: str | None = None, *, references: bool = True) -> Store:
    """Open the store at ``url`` (default: the user's); a new, empty board gets the committed
    reference entries first (``references=False`` leaves it empty), so it is never empty."""
    store = Store(url)
    if store.created and references:
        for outcome in load_references(store):
            if outcome.entry_id is None and not _duplicate(outcome.report):
                warnings.warn(
                    f"a reference entry fails verification on this installation and is left "
                    f"out ({outcome.report.summary()}); regenerate the references with "
                    "`darwin-bench leaderboard references`",
                    RuntimeWarning,
                    stacklevel=2,
                )
    return store


def _duplicate(report: Report) -> bool:
    return any(r.check == "duplicate" for r in report.rejections)


def reference_folders(track: str | None = None) -> list[Path]:
    """The committed reference entries (of one track, or all)."""
    if not REFERENCES.is_dir():
        return []
    pattern = f"{track}/*/submission.json" if track else "*/*/submission.json"
    return sorted(p.parent for p in REFERENCES.glob(pattern))


def load_references(store: Store, track: str | None = None) -> list[Outcome]:
    """Verify and store the committed reference entries (those not on the board yet).

    Everything about the data is checked again (schema, versions, hashes, seeds, budgets, every
    evaluation recomputed, exactly against the table on tabular tracks); the two checks that
    re-execute, live retraining and the replay audit (minutes for ``tpe`` on a tabular track),
    were run by the reference command when it produced the entries: their records are taken
    from the committed ``report.json``.
    """
    outcomes = []
    known = {t.name for t in tracks()}
    for folder in reference_folders(track):
        if folder.parent.name not in known:  # a track this board does not run
            continue
        submission = load_submission([folder])
        committed = Report.from_dict(json.loads((folder / "report.json").read_text("utf-8")))

        def amend(report: Report, committed: Report = committed) -> None:
            _merge_recorded(report, committed)

        outcomes.append(
            submit(submission, store, retrain=False, replay=False, reference=True, amend=amend)
        )
    return outcomes


#: Checks a reference entry's load takes from its committed report, and their facts.
RECORDED = {
    "retrain": ("retrained", "retrained_exact", "max_deviation", "retrain_seed"),
    "replay": ("replayed_proposals",),
}


def _merge_recorded(report: Report, committed: Report) -> None:
    """Replace skipped re-executing checks by the committed report's (a reference entry's)."""
    for name, facts in RECORDED.items():
        done = [c for c in committed.checks if c.name == name and c.status == "passed"]
        if not done:
            continue
        for i, check in enumerate(report.checks):
            if check.name == name and check.status == "skipped":
                report.checks[i] = replace(
                    done[0], detail=f"when the reference entry was produced: {done[0].detail}"
                )
        for key in facts:
            if key in committed.facts:
                report.facts[key] = committed.facts[key]
