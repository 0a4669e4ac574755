"""Ranking: the numbers of each run, and each entry's standing on its track.

Per run (:func:`score_run`, from its verified log; definitions of
:mod:`darwin_bench.compare_stats`):

- **final reward**: the best reward found within the budget (the best-so-far curve's last
  value; an evaluation that overshoots the budget does not count);
- **test metric**: the test metric (``test_<metric>``) of that incumbent: how good the network
  the search would hand over really is, on data the search never saw;
- **AUC**: the area under the best-so-far curve on the track's budget axis (evaluations,
  training FLOPs or seconds), divided by the budget: anytime performance;
- **hypervolume** (multi-objective tracks): of the (score, cost) points the run evaluated
  within its budget (:mod:`leaderboard.hypervolume`).

Per entry (:func:`rank`): the IQM and the mean of each over its runs, with 95% stratified
bootstrap intervals (:mod:`darwin_bench.stats`, after Agarwal et al., NeurIPS 2021). Entries
are ordered by the IQM of the final reward; an entry's rank is one plus the number of entries
whose interval lies wholly above its own, so entries whose intervals overlap share ranks and
are shown as tied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from darwin_bench import stats
from darwin_bench.compare_stats import cumulative_spend, summarize_run
from darwin_bench.pareto import pareto_front
from darwin_bench.runlog import RunRecord
from leaderboard.hypervolume import normalized_hypervolume
from leaderboard.tracks import Track


@dataclass
class RunScores:
    """The numbers of one verified run (stored with the entry).

    Attributes:
        seed: the run's seed.
        final_reward: best reward within the budget.
        test_metric: the incumbent's test metric (``None`` when it has none).
        auc: normalized area under the best-so-far curve.
        hypervolume: on multi-objective tracks, else ``None``.
        evaluations: evaluations in the run.
        curve: best-so-far reward at each point of the budget axis.
        front: the (score, cost) Pareto front of the run's evaluations within the budget.
    """

    seed: int
    final_reward: float
    test_metric: float | None
    auc: float
    hypervolume: float | None
    evaluations: int
    curve: list[float] = field(default_factory=list)
    front: list[list[float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunScores:
        """Inverse of :meth:`to_dict`."""
        return cls(**data)


def test_metric_name(record: RunRecord) -> str:
    """The incumbent's test metric of a run: ``test_<metric>`` of the task (from the header)."""
    metric = record.header.get("metric") or {}
    return f"test_{metric.get('name', 'accuracy')}"


def front_cost(track: Track) -> str:
    """The cost of a track's fronts: its hypervolume's, else its reward's."""
    if track.hypervolume is not None:
        return track.hypervolume.cost
    from envs.registration import get_entry

    return str({**get_entry(track.env_id).kwargs, **track.env_kwargs}.get("cost", "flops"))


def score_run(record: RunRecord, track: Track) -> RunScores:
    """The numbers of one verified run (see the module docstring)."""
    summary = summarize_run(record)
    test = summary.test_metric
    cost = front_cost(track)
    spent = cumulative_spend([e.spent for e in record.evaluations])
    within = int(np.searchsorted(spent, track.budget, "right"))
    points = [
        (float(e.objectives.get("score", np.nan)), float(e.costs.get(cost, np.nan)))
        for e in record.evaluations[:within]
        if e.ok
    ]
    points = [p for p in points if np.isfinite(p[0]) and np.isfinite(p[1])]
    front = sorted({points[i] for i in pareto_front(points)}) if points else []
    return RunScores(
        seed=int(record.header["seed"]),
        final_reward=float(summary.final_best),
        test_metric=None if test is None else float(test),
        auc=float(summary.auc),
        hypervolume=(
            normalized_hypervolume(points, track.hypervolume) if track.hypervolume else None
        ),
        evaluations=len(record.evaluations),
        curve=[float(v) for v in summary.curve],
        front=[list(p) for p in front],
    )


@dataclass
class EntryRuns:
    """What ranking needs of one stored entry."""

    entry_id: int
    agent: str
    version: str
    reference: bool
    runs: list[RunScores]


@dataclass
class Standing:
    """An entry's place on its track.

    Attributes:
        entry: the entry.
        rank: one plus the number of entries whose final-reward interval lies wholly above
            this one's.
        tied: another entry's interval overlaps this one's.
        final_reward / test_metric / auc / hypervolume: IQM and mean with intervals.
    """

    entry: EntryRuns
    rank: int
    tied: bool
    final_reward: stats.Summary
    test_metric: stats.Summary
    auc: stats.Summary
    hypervolume: stats.Summary | None

    @property
    def rank_label(self) -> str:
        """``"1"``, or ``"=2"`` when tied."""
        return f"={self.rank}" if self.tied else str(self.rank)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (the entry's runs without their curves)."""
        return {
            "entry": self.entry.entry_id,
            "agent": self.entry.agent,
            "version": self.entry.version,
            "reference": self.entry.reference,
            "rank": self.rank,
            "tied": self.tied,
            "runs": len(self.entry.runs),
            "final_reward": self.final_reward.to_dict(),
            "test_metric": self.test_metric.to_dict(),
            "auc": self.auc.to_dict(),
            "hypervolume": None if self.hypervolume is None else self.hypervolume.to_dict(),
        }


def rank(entries: Sequence[EntryRuns], *, multi_objective: bool = False) -> list[Standing]:
    """The standings of ``entries``, best first (see the module docstring)."""
    rows = []
    for entry in entries:
        rows.append(
            Standing(
                entry=entry,
                rank=0,
                tied=False,
                final_reward=stats.summarize([r.final_reward for r in entry.runs]),
                test_metric=stats.summarize([r.test_metric for r in entry.runs]),
                auc=stats.summarize([r.auc for r in entry.runs]),
                hypervolume=stats.summarize([r.hypervolume for r in entry.runs])
                if multi_objective
                else None,
            )
        )
    intervals = [r.final_reward.iqm for r in rows]
    for row, mine in zip(rows, intervals):
        above = [o for o in intervals if o is not mine and _above(o, mine)]
        row.rank = 1 + len(above)
        row.tied = any(o is not mine and o.overlaps(mine) for o in intervals)
    rows.sort(key=lambda r: (r.rank, -(r.final_reward.iqm.estimate or -np.inf), r.entry.entry_id))
    return rows


def _above(a: stats.Interval, b: stats.Interval) -> bool:
    """``a`` lies wholly above ``b`` (never when a bound is unknown: a single run)."""
    if a.low is None or b.high is None:
        return False
    return a.low > b.high
