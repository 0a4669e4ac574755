"""The track pages' plots, as SVG text (matplotlib; names drawn as paths, never as markup).

- **best-so-far bands**: each entry's best-so-far reward against the track's budget axis
  (evaluations, training FLOPs or seconds): the IQM over its runs at every point, and a band
  holding the middle half of the runs (25th to 75th percentile).
- **fronts**: each entry's Pareto front of (search score, cost) pooled over its runs: the
  networks it found that no other of its networks beats on both.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats as scipy_stats

from darwin_bench.budgets import BUDGET_AXIS_LABELS
from darwin_bench.compare_stats import budget_axis
from darwin_bench.pareto import pareto_front
from darwin_bench.plots import pyplot
from leaderboard.ranking import Standing
from leaderboard.tracks import Track


def _figure() -> tuple[Any, Any]:
    """A track plot's figure and axes (text drawn as paths in the SVG)."""
    plt = pyplot()
    plt.rcParams["svg.fonttype"] = "path"
    return plt.subplots(figsize=(7.0, 4.2), dpi=100)


def _finish(fig: Any, ax: Any, legend: bool) -> str:
    """Grid, legend (when there are entries) and layout; the figure as SVG text, closed."""
    ax.grid(alpha=0.3)
    if legend:
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    pyplot().close(fig)
    return buffer.getvalue()


def _label(standing: Standing) -> str:
    name = standing.entry.agent
    name = name if len(name) <= 28 else name[:27] + "…"
    return f"#{standing.entry.entry_id} {name}"


def _color(i: int) -> str:
    return f"C{i % 10}"


def best_so_far_svg(track: Track, standings: Sequence[Standing]) -> str:
    """Best-so-far bands of every entry (see the module docstring)."""
    fig, ax = _figure()
    x = budget_axis(track.budget_kind, track.budget)
    for i, standing in enumerate(standings):
        curves = np.array([r.curve for r in standing.entry.runs if len(r.curve) == len(x)])
        if not len(curves):
            continue
        middle = scipy_stats.trim_mean(curves, 0.25, axis=0)
        low, high = np.percentile(curves, [25, 75], axis=0)
        ax.plot(x, middle, drawstyle="steps-post", color=_color(i), label=_label(standing))
        ax.fill_between(x, low, high, step="post", alpha=0.18, color=_color(i))
    ax.set_xlabel(BUDGET_AXIS_LABELS[track.budget_kind])
    ax.set_ylabel("best reward so far (IQM; band: middle half of runs)")
    ax.set_title(f"{track.name}: best-so-far reward")
    return _finish(fig, ax, bool(standings))


def fronts_svg(track: Track, standings: Sequence[Standing], cost: str) -> str:
    """Every entry's pooled (score, ``cost``) Pareto front (see the module docstring)."""
    fig, ax = _figure()
    for i, standing in enumerate(standings):
        points = [(p[0], p[1]) for r in standing.entry.runs for p in r.front]
        if not points:
            continue
        front = sorted((points[j] for j in pareto_front(points)), key=lambda p: p[1])
        score = [p[0] for p in front]
        costs = [max(p[1], 1e-12) for p in front]
        ax.plot(
            costs,
            score,
            drawstyle="steps-post",
            marker="o",
            markersize=3,
            color=_color(i),
            label=_label(standing),
        )
    ax.set_xscale("log")
    ax.set_xlabel(f"{cost} (log scale)")
    ax.set_ylabel("validation score (the search's objective)")
    ax.set_title(f"{track.name}: score vs cost, Pareto fronts over all runs")
    return _finish(fig, ax, bool(standings))
