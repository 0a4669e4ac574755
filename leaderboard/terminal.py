"""Rich tables of the leaderboard for the terminal (``darwin-bench leaderboard ...``)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from rich.table import Table

from darwin_bench.budgets import BUDGET_AXIS_LABELS
from leaderboard.ranking import Standing
from leaderboard.report import Report
from leaderboard.tracks import Track


def budget_text(track: Track) -> str:
    """``"20 evaluations"``, ``"2e+12 training FLOPs spent"``."""
    amount = f"{int(track.budget)}" if track.budget_kind == "evaluations" else f"{track.budget:g}"
    label = (
        "evaluations"
        if track.budget_kind == "evaluations"
        else BUDGET_AXIS_LABELS[track.budget_kind]
    )
    return f"{amount} {label}"


def tracks_table(tracks: Sequence[Track]) -> Table:
    """One row per track."""
    table = Table(title="leaderboard tracks")
    for column in ("track", "env", "kind", "budget", "seeds", "env kwargs"):
        table.add_column(column, justify="right" if column == "seeds" else "left")
    for track in tracks:
        table.add_row(
            track.name,
            track.env_id,
            track.kind + (", multi-objective" if track.multi_objective else ""),
            budget_text(track),
            f">= {track.min_seeds}",
            json.dumps(track.env_kwargs, sort_keys=True),
        )
    table.caption = "seeds: an entry submits runs with seeds 0..n-1, n at least this"
    return table


def standings_table(track: Track, standings: Sequence[Standing]) -> Table:
    """The ranked entries of one track."""
    table = Table(title=f"{track.name}: {track.env_id}, {budget_text(track)}")
    columns = ["rank", "entry", "agent", "version", "runs", "final reward IQM", "mean"]
    columns += ["incumbent test metric IQM", "AUC IQM"]
    if track.multi_objective:
        columns.append("hypervolume IQM")
    for column in columns:
        table.add_column(column, justify="left" if column in ("agent", "version") else "right")
    for s in standings:
        row = [
            s.rank_label,
            f"#{s.entry.entry_id}",
            s.entry.agent + (" (reference)" if s.entry.reference else ""),
            s.entry.version,
            str(len(s.entry.runs)),
            s.final_reward.iqm.format(),
            s.final_reward.mean.format(),
            s.test_metric.iqm.format(),
            s.auc.iqm.format(),
        ]
        if track.multi_objective and s.hypervolume is not None:
            row.append(s.hypervolume.iqm.format())
        table.add_row(*row)
    table.caption = (
        "estimate [95% stratified-bootstrap interval] over runs; '=k': tied (intervals of the "
        "final reward overlap another entry's); AUC: best-so-far reward over the budget"
    )
    return table


def report_table(report: Report) -> Table:
    """The checks of a verification report."""
    table = Table(
        title=f"verification on {report.track}: {'accepted' if report.accepted else 'REJECTED'}"
    )
    for column in ("check", "status", "seconds", "detail"):
        table.add_column(column, justify="right" if column == "seconds" else "left")
    for check in report.checks:
        table.add_row(check.name, check.status, f"{check.seconds:.2f}", check.detail)
    return table
